import type { Knex } from 'knex';
import type { BranchStatus } from '@dtx/protocol';
import { branchSourcesOf } from '../../core/transitions.js';
import { holdsOutcome, isRepeatReport, triedStatus, type TryOutcome } from '../../core/try-outcome.js';
import { BranchNotFoundError, TxNotTryingError } from '../../errors.js';
import { inStatements, valueByBranch } from '../multi-row.js';
import { readStatus } from '../queries/readStatus.js';
import { BRANCH_TABLE, clipError, TX_TABLE } from '../records.js';
import { NotCoalesced, type BatchableWrite } from '../write-batcher.js';
import { lockTrying } from './lockTrying.js';

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
    .whereExists(trx(TX_TABLE).select(trx.raw('1')).where({ xid, status: 'trying' }))
    // a row that already holds exactly this report is left alone (not even its updated_at): holdsOutcome in SQL
    .whereNot((q) => q.where('status', status).where(holds('try_result', r.resultJson)).where(holds('last_error', r.error)))
    .update({ status, try_result: r.resultJson, last_error: r.error, updated_at: now });
  if (updated === 1) return;
  const tx = await readStatus(trx, xid);
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
    const values = reports.map((r) => ({ ...r, status: triedStatus(r), error: clipError(r.error) }));
    for (const v of values) {
      const row = stored.get(key(v.xid, v.branchId));
      const repeat = row && holdsOutcome({ status: row.status, tryResultJson: row.try_result, lastError: row.last_error }, v);
      if (!row || !OPEN.includes(row.status) || repeat) throw new NotCoalesced('not a new report on an open branch');
    }
    for (const part of inStatements(values)) {
      const byBranch = (value: (v: (typeof values)[number]) => string | null) => valueByBranch(trx, part, value);
      await trx(BRANCH_TABLE)
        .whereIn(['xid', 'branch_id'], part.map((v) => [v.xid, v.branchId]))
        .update({ status: byBranch((v) => v.status), try_result: byBranch((v) => v.resultJson), last_error: byBranch((v) => v.error), updated_at: now });
    }
    return reports.map(() => undefined);
  },
};
