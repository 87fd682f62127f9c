import type { Knex } from 'knex';
import { txSourcesOf } from '../../core/transitions.js';
import { clipReason, TX_TABLE } from '../records.js';

/** The rollback decision: `trying → rolling_back`, guarded like markCommitting. */
export async function markRollingBack(trx: Knex.Transaction, xid: string, reason: string, now: number, leaseUntil: number): Promise<boolean> {
  const updated = await trx(TX_TABLE)
    .where({ xid })
    .whereIn('status', txSourcesOf('rolling_back'))
    .update({ status: 'rolling_back', reason: clipReason(reason), next_retry_at: leaseUntil, updated_at: now });
  return updated === 1;
}
