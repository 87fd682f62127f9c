import type { Knex } from 'knex';
import { txSourcesOf } from '../../core/transitions.js';
import { BRANCH_TABLE, TX_TABLE } from '../records.js';

/**
 * The commit decision: `trying → committing`, taken only if the transaction is
 * still trying, its deadline has not passed and no branch reported a failed try.
 * The affected-row count says whether this call won (DESIGN.md invariant 1).
 * next_retry_at becomes the phase-2 lease, so recovery leaves the driver alone.
 */
export async function markCommitting(trx: Knex.Transaction, xid: string, now: number, leaseUntil: number): Promise<boolean> {
  const updated = await trx(TX_TABLE)
    .where({ xid })
    .whereIn('status', txSourcesOf('committing'))
    .andWhere('deadline', '>', now)
    .whereNotExists(trx(BRANCH_TABLE).select(trx.raw('1')).where({ xid, status: 'try_failed' }))
    .update({ status: 'committing', next_retry_at: leaseUntil, updated_at: now });
  return updated === 1;
}
