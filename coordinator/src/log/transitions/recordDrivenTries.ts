import type { Knex } from 'knex';
import { branchSourcesOf } from '../../core/transitions.js';
import { triedStatus, type TryOutcome } from '../../core/try-outcome.js';
import { dialectOf, type Dialect } from '../database.js';
import { caseBindings, caseByBranch, inStatements } from '../multi-row.js';
import { branchPairsIn, cachedText, execute, list } from '../raw-statements.js';
import { BRANCH_TABLE, clipError } from '../records.js';
import { markTryFailed } from './markTryFailed.js';

const OPEN = branchSourcesOf('tried');

/** Driven mode: the coordinator itself called the tries of `xid`, so it records all their outcomes at once. */
export async function recordDrivenTries(trx: Knex.Transaction, xid: string, outcomes: readonly TryOutcome[], now: number): Promise<void> {
  for (const o of outcomes) {
    await trx(BRANCH_TABLE)
      .where({ xid, branch_id: o.branchId })
      .whereIn('status', OPEN)
      .update({ status: triedStatus(o), try_result: o.resultJson, last_error: clipError(o.error), updated_at: now });
  }
  const failures = outcomes.filter((o) => !o.ok).map((o) => ({ xid, branchId: o.branchId }));
  if (failures.length > 0) await markTryFailed(trx, failures);
}

/** A try of driven mode that succeeded, of any transaction. */
export type SucceededTry = Pick<TryOutcome, 'branchId' | 'resultJson'> & { xid: string };

/**
 * The `tries` branches of one statement, `withResult` of them given a result. Prepared
 * text (raw-statements.ts), not the query builder: every driven commit runs it.
 */
const setTried = cachedText(
  (dialect: Dialect, tries: number, withResult: number) =>
    `UPDATE ${BRANCH_TABLE} SET status = ?, try_result = ${withResult === 0 ? 'NULL' : caseByBranch(withResult)}, last_error = NULL, updated_at = ?` +
    ` WHERE ${branchPairsIn(dialect, tries)} AND status IN (${list(OPEN.length)})`,
);

/** The same for the succeeded tries of many transactions, in one statement, each branch getting its own result. */
export async function recordDrivenTriesAll(trx: Knex.Transaction, tries: readonly SucceededTry[], now: number): Promise<void> {
  const dialect = dialectOf(trx);
  for (const part of inStatements(tries)) {
    const withResult = part.filter((t) => t.resultJson !== null);
    const bindings = ['tried', ...caseBindings(withResult, (t) => t.resultJson), now, ...part.flatMap((t) => [t.xid, t.branchId]), ...OPEN];
    await execute(trx, setTried(dialect, part.length, withResult.length), bindings);
  }
}
