import type { Knex } from 'knex';
import { modesWith, txSourcesOf } from '../../core/transitions.js';
import { clipReason, TX_TABLE } from '../records.js';

const MODES = modesWith('trying', 'rolling_back');

/** The rollback decision: `trying → rolling_back`, guarded like markCommitting; a message never takes it (rollBackMessage). */
export async function markRollingBack(trx: Knex.Transaction, xid: string, reason: string, now: number, leaseUntil: number): Promise<boolean> {
  const updated = await trx(TX_TABLE)
    .where({ xid })
    .whereIn('status', txSourcesOf('rolling_back'))
    .whereIn('tx_mode', MODES)
    .update({ status: 'rolling_back', reason: clipReason(reason), next_retry_at: leaseUntil, updated_at: now });
  return updated === 1;
}
