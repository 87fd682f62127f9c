import type { Knex } from 'knex';
import { branchSourcesOf } from '../../core/transitions.js';
import { inStatements, valueByBranch } from '../multi-row.js';
import { BRANCH_TABLE } from '../records.js';
import type { TryResult } from './recordTryResult.js';

export interface SucceededTry {
  xid: string;
  branchId: string;
  /** JSON text of what try returned. */
  resultJson: string | null;
}

const OPEN = branchSourcesOf('tried');

/** Driven mode, coalesced: the succeeded tries of many transactions in one statement, each branch getting its own result. */
export async function recordSucceededTries(trx: Knex.Transaction, tries: SucceededTry[], now: number): Promise<void> {
  for (const part of inStatements(tries)) {
    const withResult = part.filter((t) => t.resultJson !== null);
    const tryResult = withResult.length === 0 ? null : valueByBranch(trx, withResult, (t) => t.resultJson);
    await trx(BRANCH_TABLE)
      .whereIn(['xid', 'branch_id'], part.map((t) => [t.xid, t.branchId]))
      .whereIn('status', OPEN)
      .update({ status: 'tried', try_result: tryResult, last_error: null, updated_at: now });
  }
}

/** Driven mode: the coordinator itself called the tries, so it records all outcomes at once. */
export async function recordTryResults(trx: Knex.Transaction, xid: string, results: TryResult[], now: number): Promise<void> {
  for (const r of results) {
    await trx(BRANCH_TABLE)
      .where({ xid, branch_id: r.branchId })
      .whereIn('status', OPEN)
      .update({ status: r.ok ? 'tried' : 'try_failed', try_result: r.resultJson, last_error: r.error?.slice(0, 2000) ?? null, updated_at: now });
  }
}
