import type { Knex } from 'knex';
import { finalStatus, type DecidedStatus } from '../../core/transitions.js';
import { inStatements } from '../multi-row.js';
import { TX_TABLE } from '../records.js';

/** `committing → committed` or `rolling_back → rolled_back`, once every branch is done. */
export function markFinished(trx: Knex.Transaction, xid: string, from: DecidedStatus, now: number): Promise<boolean> {
  return markFinishedAll(trx, [xid], from, now);
}

/** The same for many transactions at once (group commit); true only if every one of them moved. */
export async function markFinishedAll(trx: Knex.Transaction, xids: string[], from: DecidedStatus, now: number): Promise<boolean> {
  let moved = 0;
  for (const part of inStatements(xids)) {
    moved += await trx(TX_TABLE)
      .whereIn('xid', part)
      .andWhere('status', from)
      .update({ status: finalStatus(from), next_retry_at: null, stuck: 0, finished_at: now, updated_at: now });
  }
  return moved === xids.length;
}
