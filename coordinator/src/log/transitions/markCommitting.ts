import type { Knex } from 'knex';
import { txSourcesOf } from '../../core/transitions.js';
import { inStatements } from '../multi-row.js';
import { cachedText, execute, list } from '../raw-statements.js';
import { TX_TABLE } from '../records.js';

const FROM = txSourcesOf('committing');

/** The guarded update over `n` xids. Prepared text (raw-statements.ts), not the query builder: every commit runs it. */
const setCommitting = cachedText(
  (n: number) =>
    `UPDATE ${TX_TABLE} SET status = ?, next_retry_at = ?, updated_at = ?` +
    ` WHERE xid IN (${list(n)}) AND status IN (${list(FROM.length)}) AND deadline > ? AND failed_branch IS NULL AND tx_mode = 'tcc'`,
);

/**
 * The commit decision: `trying → committing`, taken only if the transaction is
 * still trying, its deadline has not passed and no branch reported a failed try;
 * a saga never takes it (it commits itself, commitSaga).
 * The affected-row count says whether this call won (docs/design.md, invariant 1).
 * The guard reads the transaction's own row only (`failed_branch`, set by markTryFailed
 * with every failed try): a database re-checks the row it waited for, whatever plan it
 * picks, but not what a subquery read (InnoDB's semi-consistent read, PostgreSQL's
 * re-check after a lock wait).
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
    won += await execute(trx, setCommitting(part.length), ['committing', leaseUntil, now, ...part, ...FROM, now]);
  }
  return won === xids.length;
}
