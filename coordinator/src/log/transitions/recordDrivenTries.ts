import type { Knex } from 'knex';
import { branchSourcesOf } from '../../core/transitions.js';
import { triedStatus, type TryOutcome } from '../../core/try-outcome.js';
import { inStatements, valueByBranch } from '../multi-row.js';
import { BRANCH_TABLE, clipError } from '../records.js';

const OPEN = branchSourcesOf('tried');

/** Driven mode: the coordinator itself called the tries of `xid`, so it records all their outcomes at once. */
export async function recordDrivenTries(trx: Knex.Transaction, xid: string, outcomes: readonly TryOutcome[], now: number): Promise<void> {
  for (const o of outcomes) {
    await trx(BRANCH_TABLE)
      .where({ xid, branch_id: o.branchId })
      .whereIn('status', OPEN)
      .update({ status: triedStatus(o), try_result: o.resultJson, last_error: clipError(o.error), updated_at: now });
  }
}

/** A try of driven mode that succeeded, of any transaction. */
export type SucceededTry = Pick<TryOutcome, 'branchId' | 'resultJson'> & { xid: string };

/** The same for the succeeded tries of many transactions, in one statement, each branch getting its own result. */
export async function recordDrivenTriesAll(trx: Knex.Transaction, tries: readonly SucceededTry[], now: number): Promise<void> {
  for (const part of inStatements(tries)) {
    const withResult = part.filter((t) => t.resultJson !== null);
    const tryResult = withResult.length === 0 ? null : valueByBranch(trx, withResult, (t) => t.resultJson);
    await trx(BRANCH_TABLE)
      .whereIn(['xid', 'branch_id'], part.map((t) => [t.xid, t.branchId]))
      .whereIn('status', OPEN)
      .update({ status: 'tried', try_result: tryResult, last_error: null, updated_at: now });
  }
}
