import type { Knex } from 'knex';
import { abandonedStatus, UNFINISHED } from '../../core/transitions.js';
import { clipReason, TX_TABLE } from '../records.js';
import { readStatus } from '../queries/readStatus.js';

/**
 * An operator gives up an unfinished transaction (the DTM surface's `forceStop`, when
 * allowed): it ends on the side it was on (abandonedStatus) with no participant call,
 * the reason saying so; its branches keep their statuses, so what was never finished
 * stays visible. Guarded on the status read, so a round that finishes it meanwhile wins
 * and this answers false.
 */
export async function abandonTransaction(trx: Knex.Transaction, xid: string, reason: string, now: number): Promise<boolean> {
  const { status } = await readStatus(trx, xid);
  if (!(UNFINISHED as string[]).includes(status)) return false;
  const updated = await trx(TX_TABLE)
    .where({ xid, status })
    .update({ status: abandonedStatus(status as 'trying'), reason: clipReason(reason), next_retry_at: null, stuck: 0, finished_at: now, updated_at: now });
  return updated === 1;
}
