import type { Knex } from 'knex';
import { branchSourcesOf, type DoneBranchStatus } from '../../core/transitions.js';
import { dialectOf, type Dialect } from '../database.js';
import { inStatements } from '../multi-row.js';
import { branchPairsIn, cachedText, execute, list } from '../raw-statements.js';
import { BRANCH_TABLE } from '../records.js';

/** Prepared text (raw-statements.ts), not the query builder: every transaction's end runs it. */
const setDone = cachedText(
  (dialect: Dialect, n: number, from: number) =>
    `UPDATE ${BRANCH_TABLE} SET status = ?, attempts = attempts + 1, last_error = NULL, updated_at = ? WHERE ${branchPairsIn(dialect, n)} AND status IN (${list(from)})`,
);

/** Branches whose confirm (or cancel) succeeded, counting that call; a branch already done is left as it is. */
export function markBranchesDone(trx: Knex.Transaction, xid: string, branchIds: string[], status: DoneBranchStatus, now: number): Promise<void> {
  return markBranchesDoneAll(trx, branchIds.map((id): [string, string] => [xid, id]), status, now);
}

/** The same for the branches of many transactions, in one statement: (xid, branchId) pairs. */
export async function markBranchesDoneAll(trx: Knex.Transaction, branches: [xid: string, branchId: string][], status: DoneBranchStatus, now: number): Promise<void> {
  const dialect = dialectOf(trx);
  const from = branchSourcesOf(status);
  for (const part of inStatements(branches)) {
    await execute(trx, setDone(dialect, part.length, from.length), [status, now, ...part.flat(), ...from]);
  }
}
