import type { Knex } from 'knex';
import type { BranchStatus } from '@dtx/protocol';
import { branchSourcesOf } from '../../core/transitions.js';
import { holdsOutcome, isRepeatReport, triedStatus, type TryOutcome } from '../../core/try-outcome.js';
import { BranchNotFoundError, InvalidRequestError, TxNotTryingError } from '../../errors.js';
import { dialectOf, type Dialect } from '../database.js';
import { caseBindings, caseByBranch, inStatements } from '../multi-row.js';
import { readStatus } from '../queries/readStatus.js';
import { branchPairsIn, cachedText, execute, list } from '../raw-statements.js';
import { BRANCH_TABLE, clipError, TX_TABLE } from '../records.js';
import { NotCoalesced, type BatchableWrite } from '../write-batcher.js';
import { lockTrying } from './lockTrying.js';
import { markTryFailed } from './markTryFailed.js';

const OPEN = branchSourcesOf('tried');

/**
 * An initiator reports a try's outcome; only while the transaction is `trying`.
 * An identical report again (a retry after a lost response) answers the same and writes nothing.
 */
export async function recordTryReport(trx: Knex.Transaction, xid: string, reported: TryOutcome, now: number): Promise<void> {
  // Lock the transaction row first (a no-op guarded update), as register does: a commit
  // deciding at the same time either waits for this report and sees a failed try, or
  // decides first and this report is refused. The EXISTS below alone does not lock at
  // READ COMMITTED.
  await lockTrying(trx, [xid]);
  const r = { ...reported, error: clipError(reported.error) };
  const status = triedStatus(r);
  const updated = await trx(BRANCH_TABLE)
    .where({ xid, branch_id: r.branchId })
    .whereIn('status', OPEN)
    .whereExists(trx(TX_TABLE).select(trx.raw('1')).where({ xid, status: 'trying', tx_mode: 'tcc' }))
    // a row that already holds exactly this report is left alone (not even its updated_at): holdsOutcome in SQL
    .whereNot((q) => q.where('status', status).where(holds('try_result', r.resultJson)).where(holds('last_error', r.error)))
    .update({ status, try_result: r.resultJson, last_error: r.error, updated_at: now });
  if (updated === 1) {
    if (!r.ok) await markTryFailed(trx, [{ xid, branchId: r.branchId }]);
    return;
  }
  const tx = await readStatus(trx, xid);
  if (tx.mode !== 'tcc') throw new InvalidRequestError(`a ${tx.mode} step’s outcome is its action’s answer`, [{ path: '/branchId', message: `transaction ${xid} is a ${tx.mode}` }]);
  const branch = await trx(BRANCH_TABLE).where({ xid, branch_id: r.branchId }).first('status', 'try_result');
  if (!branch) throw new BranchNotFoundError(xid, r.branchId);
  if (isRepeatReport({ status: branch.status, tryResultJson: branch.try_result ?? null }, r)) return;
  throw new TxNotTryingError(xid, tx.status);
}

/** `column` holds `value`, true or false but never SQL NULL (so it is safe under NOT). */
const holds = (column: string, value: string | null) => (q: Knex.QueryBuilder) =>
  value === null ? q.whereNull(column) : q.whereNotNull(column).where(column, value);

export interface TryReport extends TryOutcome {
  xid: string;
  now: number;
}

/**
 * Try reports, coalesced: lock the batch's transactions, check each branch is open
 * and the report new, then one UPDATE with each branch's values. Anything else (not
 * trying, an unknown branch, a repeat) sends the batch back to recordTryReport.
 */
export const recordTryReportWrite: BatchableWrite<TryReport, void> = {
  one: (trx, r) => recordTryReport(trx, r.xid, r, r.now),
  async many(trx, reports) {
    const xids = [...new Set(reports.map((r) => r.xid))];
    if (!(await lockTrying(trx, xids))) throw new NotCoalesced('a transaction is not trying');
    const key = (xid: string, branchId: string) => `${xid}\n${branchId}`;
    const pairs = reports.map((r): [string, string] => [r.xid, r.branchId]);
    if (new Set(pairs.map(([x, b]) => key(x, b))).size !== pairs.length) throw new NotCoalesced('a branch reported twice');
    const stored = new Map<string, { status: BranchStatus; try_result: string | null; last_error: string | null }>();
    for (const part of inStatements(pairs)) {
      for (const row of await trx(BRANCH_TABLE).whereIn(['xid', 'branch_id'], part).select('xid', 'branch_id', 'status', 'try_result', 'last_error')) {
        stored.set(key(row.xid, row.branch_id), row);
      }
    }
    const now = Math.max(...reports.map((r) => r.now));
    for (const v of reports) {
      const row = stored.get(key(v.xid, v.branchId));
      const repeat = row && holdsOutcome({ status: row.status, tryResultJson: row.try_result, lastError: row.last_error }, { ...v, error: clipError(v.error) });
      if (!row || !OPEN.includes(row.status) || repeat) throw new NotCoalesced('not a new report on an open branch');
    }
    await updateReports(trx, reports, now);
    return reports.map(() => undefined);
  },
};

/**
 * A commit's `tryResults` (PROTOCOL.md v1.1): recorded as try-result calls would be,
 * only while `xid` is trying (once decided, the decision answers and they change
 * nothing). Every branch is checked to exist before anything is written, so an
 * unknown one refuses the commit with BRANCH_NOT_FOUND and leaves the log as it was.
 */
export async function recordCommitReports(trx: Knex.Transaction, xid: string, reports: readonly TryOutcome[], now: number): Promise<void> {
  if (reports.length === 0 || !(await lockTrying(trx, [xid]))) return;
  const rows = (await trx(BRANCH_TABLE)
    .where({ xid })
    .whereIn('branch_id', reports.map((r) => r.branchId))
    .select('branch_id', 'status', 'try_result', 'last_error')) as { branch_id: string; status: BranchStatus; try_result: string | null; last_error: string | null }[];
  const stored = new Map(rows.map((r) => [r.branch_id, { status: r.status, tryResultJson: r.try_result, lastError: r.last_error }]));
  const unknown = reports.find((r) => !stored.has(r.branchId));
  if (unknown) throw new BranchNotFoundError(xid, unknown.branchId);
  // while trying every branch is open (BRANCH_NEXT), so each new report applies
  const fresh = reports.filter((r) => !holdsOutcome(stored.get(r.branchId)!, { ...r, error: clipError(r.error) }));
  if (fresh.length > 0) await updateReports(trx, fresh.map((r) => ({ ...r, xid })), now);
}

/**
 * The successful try reports of many commits, coalesced (PROTOCOL.md v1.1): false, with
 * nothing to keep, unless every transaction is trying and every report is a success
 * that changed an open branch; the batch then goes back to recordCommitReports one by one.
 */
export async function recordCommitReportsAll(trx: Knex.Transaction, reports: readonly (TryOutcome & { xid: string })[], now: number): Promise<boolean> {
  if (reports.some((r) => !r.ok)) return false;
  if (!(await lockTrying(trx, [...new Set(reports.map((r) => r.xid))]))) return false;
  return (await updateReports(trx, reports, now)) === reports.length;
}

/** updateReports' statement over `n` branches. Prepared text (raw-statements.ts), not the query builder: every initiator commit runs it. */
const setReported = cachedText(
  (dialect: Dialect, n: number) =>
    `UPDATE ${BRANCH_TABLE} SET status = ${caseByBranch(n)}, try_result = ${caseByBranch(n)}, last_error = ${caseByBranch(n)}, updated_at = ?` +
    ` WHERE ${branchPairsIn(dialect, n)} AND status IN (${list(OPEN.length)})`,
);

/** One multi-row UPDATE (per statement-sized part) giving each open branch its reported outcome; the rows it changed. */
async function updateReports(trx: Knex.Transaction, reports: readonly (TryOutcome & { xid: string })[], now: number): Promise<number> {
  const dialect = dialectOf(trx);
  let changed = 0;
  for (const part of inStatements(reports)) {
    const bindings = [
      ...caseBindings(part, triedStatus),
      ...caseBindings(part, (r) => r.resultJson),
      ...caseBindings(part, (r) => clipError(r.error)),
      now,
      ...part.flatMap((r) => [r.xid, r.branchId]),
      ...OPEN,
    ];
    changed += await execute(trx, setReported(dialect, part.length), bindings);
  }
  const failures = reports.filter((r) => !r.ok);
  if (failures.length > 0) await markTryFailed(trx, failures);
  return changed;
}
