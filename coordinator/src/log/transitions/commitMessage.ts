import type { Knex } from 'knex';
import { txSourcesOf } from '../../core/transitions.js';
import { TX_TABLE } from '../records.js';

/**
 * A message's commit decision (v1.2): `trying → committing`, by its producer's commit or
 * a check-back answering 200. Guarded like markCommitting, whose guard a message never
 * meets: its deadline does not refuse a commit (it only starts the check-backs), and a
 * check-back's 409 that won first keeps it rolled back. The check-backs' failed rounds
 * are forgotten (attempts, stuck), so delivery counts its own. next_retry_at becomes the
 * delivery's lease.
 */
export async function commitMessage(trx: Knex.Transaction, xid: string, now: number, leaseUntil: number): Promise<boolean> {
  const updated = await trx(TX_TABLE)
    .where({ xid, tx_mode: 'msg' })
    .whereIn('status', txSourcesOf('committing', 'msg'))
    .update({ status: 'committing', attempts: 0, stuck: 0, last_error: null, next_retry_at: leaseUntil, updated_at: now });
  return updated === 1;
}
