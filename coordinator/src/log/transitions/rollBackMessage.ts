import type { Knex } from 'knex';
import { txSourcesOf } from '../../core/transitions.js';
import { clipReason, TX_TABLE } from '../records.js';

/**
 * A message's rollback decision (v1.2): `trying → rolled_back` at once, since none of
 * its steps was called (a rollback request, or a check-back answering 409). Guarded like
 * commitMessage: the first decision keeps the message.
 */
export async function rollBackMessage(trx: Knex.Transaction, xid: string, reason: string, now: number): Promise<boolean> {
  const updated = await trx(TX_TABLE)
    .where({ xid, tx_mode: 'msg' })
    .whereIn('status', txSourcesOf('rolled_back', 'msg'))
    .update({ status: 'rolled_back', reason: clipReason(reason), next_retry_at: null, stuck: 0, finished_at: now, updated_at: now });
  return updated === 1;
}
