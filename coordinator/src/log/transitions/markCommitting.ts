import type { Knex } from 'knex';
import { txSourcesOf } from '../../core/transitions.js';
import { inStatements } from '../multi-row.js';
import { BRANCH_TABLE, TX_TABLE } from '../records.js';

/**
 * The commit decision: `trying → committing`, taken only if the transaction is
 * still trying, its deadline has not passed and no branch reported a failed try.
 * The affected-row count says whether this call won (DESIGN.md invariant 1).
 * next_retry_at becomes the phase-2 lease, so recovery leaves the driver alone.
 */
export function markCommitting(trx: Knex.Transaction, xid: string, now: number, leaseUntil: number): Promise<boolean> {
  return markCommittingAll(trx, [xid], now, leaseUntil);
}

/**
 * The same decision for many transactions in one guarded statement (group
 * commit); true only if every one of them won. The latest `now` of the batch is
 * the guard and the timestamp, so a transaction this refuses may still win alone.
 */
export async function markCommittingAll(trx: Knex.Transaction, xids: string[], now: number, leaseUntil: number): Promise<boolean> {
  let won = 0;
  for (const part of inStatements(xids)) {
    won += await trx(TX_TABLE)
      .whereIn('xid', part)
      .whereIn('status', txSourcesOf('committing'))
      .andWhere('deadline', '>', now)
      .whereNotExists(trx(BRANCH_TABLE).select(trx.raw('1')).whereRaw('??.xid = ??.xid', [BRANCH_TABLE, TX_TABLE]).andWhere(`${BRANCH_TABLE}.status`, 'try_failed'))
      .update({ status: 'committing', next_retry_at: leaseUntil, updated_at: now });
  }
  return won === xids.length;
}
