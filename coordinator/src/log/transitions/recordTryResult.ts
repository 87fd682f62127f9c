import type { Knex } from 'knex';
import { BranchNotFoundError, TxNotTryingError } from '../../errors.js';
import { branchSourcesOf } from '../../core/transitions.js';
import { inStatements, valueByBranch } from '../multi-row.js';
import { BRANCH_TABLE, TX_TABLE } from '../records.js';
import { NotCoalesced, type Transition } from '../write-batcher.js';
import { lockTrying } from './lockTrying.js';
import { readStatus } from '../queries/readStatus.js';

export interface TryResult {
  branchId: string;
  ok: boolean;
  /** JSON text of what try returned. */
  resultJson: string | null;
  /** Why a try failed. */
  error?: string | null;
}

const OPEN = branchSourcesOf('tried');

/**
 * An initiator reports a try's outcome; only while the transaction is `trying`.
 * An identical report again (a retry after a lost response) answers the same and writes nothing.
 */
export async function recordTryResult(trx: Knex.Transaction, xid: string, r: TryResult, now: number): Promise<void> {
  // Lock the transaction row first (a no-op guarded update), as register does: a commit
  // deciding at the same time either waits for this report and sees a failed try, or
  // decides first and this report is refused. The EXISTS below alone does not lock at
  // READ COMMITTED.
  await lockTrying(trx, [xid]);
  const status = r.ok ? 'tried' : 'try_failed';
  const lastError = r.error?.slice(0, 2000) ?? null;
  const updated = await trx(BRANCH_TABLE)
    .where({ xid, branch_id: r.branchId })
    .whereIn('status', OPEN)
    .whereExists(trx(TX_TABLE).select(trx.raw('1')).where({ xid, status: 'trying' }))
    // a row that already holds exactly this report is left alone (not even its updated_at)
    .whereNot((q) => q.where('status', status).where(holds('try_result', r.resultJson)).where(holds('last_error', lastError)))
    .update({ status, try_result: r.resultJson, last_error: lastError, updated_at: now });
  if (updated === 1) return;
  const tx = await readStatus(trx, xid);
  const branch = await trx(BRANCH_TABLE).where({ xid, branch_id: r.branchId }).first('status', 'try_result');
  if (!branch) throw new BranchNotFoundError(xid, r.branchId);
  if (isRepeat(branch.status, branch.try_result ?? null, r)) return;
  throw new TxNotTryingError(xid, tx.status);
}

// After the decision the log keeps only the branch status and try_result (phase 2 overwrites, then clears,
// last_error), so a report is a repeat when the log is what it would be had it been recorded before: the same
// try_result and a status it leads to (tried → confirmed | cancelled; try_failed → cancelled only). A late first
// report the log cannot tell apart (ok:false for a branch cancelled untried) gets the same 200 and changes nothing.
const REPEAT_OF: Record<'tried' | 'try_failed', readonly string[]> = {
  tried: ['tried', 'confirmed', 'cancelled'],
  try_failed: ['try_failed', 'cancelled'],
};

function isRepeat(branchStatus: string, tryResult: string | null, r: TryResult): boolean {
  return REPEAT_OF[r.ok ? 'tried' : 'try_failed'].includes(branchStatus) && tryResult === r.resultJson;
}

/** `column` holds `value`, true or false but never SQL NULL (so it is safe under NOT). */
const holds = (column: string, value: string | null) => (q: Knex.QueryBuilder) =>
  value === null ? q.whereNull(column) : q.whereNotNull(column).where(column, value);

export interface TryReport extends TryResult {
  xid: string;
  now: number;
}

/**
 * Try reports, coalesced: lock the batch's transactions, check each branch is open
 * and the report new, then one UPDATE with each branch's values. Anything else (not
 * trying, an unknown branch, a repeat) sends the batch back to recordTryResult.
 */
export const recordTryReports: Transition<TryReport, void> = {
  one: (trx, r) => recordTryResult(trx, r.xid, r, r.now),
  async many(trx, reports) {
    const xids = [...new Set(reports.map((r) => r.xid))];
    if (!(await lockTrying(trx, xids))) throw new NotCoalesced('a transaction is not trying');
    const key = (xid: string, branchId: string) => `${xid}\n${branchId}`;
    const pairs = reports.map((r): [string, string] => [r.xid, r.branchId]);
    if (new Set(pairs.map(([x, b]) => key(x, b))).size !== pairs.length) throw new NotCoalesced('a branch reported twice');
    const stored = new Map<string, { status: string; try_result: string | null; last_error: string | null }>();
    for (const part of inStatements(pairs)) {
      for (const row of await trx(BRANCH_TABLE).whereIn(['xid', 'branch_id'], part).select('xid', 'branch_id', 'status', 'try_result', 'last_error')) {
        stored.set(key(row.xid, row.branch_id), row);
      }
    }
    const now = Math.max(...reports.map((r) => r.now));
    const values = reports.map((r) => ({ r, xid: r.xid, branchId: r.branchId, status: r.ok ? 'tried' : 'try_failed', error: r.error?.slice(0, 2000) ?? null }));
    for (const v of values) {
      const row = stored.get(key(v.r.xid, v.r.branchId));
      const repeat = row && row.status === v.status && row.try_result === v.r.resultJson && row.last_error === v.error;
      if (!row || !(OPEN as string[]).includes(row.status) || repeat) throw new NotCoalesced('not a new report on an open branch');
    }
    for (const part of inStatements(values)) {
      const byBranch = (value: (v: (typeof values)[number]) => string | null) => valueByBranch(trx, part, value);
      await trx(BRANCH_TABLE)
        .whereIn(['xid', 'branch_id'], part.map((v) => [v.r.xid, v.r.branchId]))
        .update({ status: byBranch((v) => v.status), try_result: byBranch((v) => v.r.resultJson), last_error: byBranch((v) => v.error), updated_at: now });
    }
    return reports.map(() => undefined);
  },
};
