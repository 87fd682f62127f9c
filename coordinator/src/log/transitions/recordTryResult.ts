import type { Knex } from 'knex';
import { BranchNotFoundError, TxNotFoundError, TxNotTryingError } from '../../errors.js';
import { branchSourcesOf } from '../../core/transitions.js';
import { BRANCH_TABLE, TX_TABLE } from '../records.js';

export interface TryResult {
  branchId: string;
  ok: boolean;
  /** JSON text of what try returned. */
  resultJson: string | null;
  /** Why a try failed. */
  error?: string | null;
}

const OPEN = branchSourcesOf('tried');

/** An initiator reports a try's outcome; only while the transaction is `trying` (a repeat of the same report is fine later). */
export async function recordTryResult(trx: Knex.Transaction, xid: string, r: TryResult, now: number): Promise<void> {
  const status = r.ok ? 'tried' : 'try_failed';
  const updated = await trx(BRANCH_TABLE)
    .where({ xid, branch_id: r.branchId })
    .whereIn('status', OPEN)
    .whereExists(trx(TX_TABLE).select(trx.raw('1')).where({ xid, status: 'trying' }))
    .update({ status, try_result: r.resultJson, last_error: r.error?.slice(0, 2000) ?? null, updated_at: now });
  if (updated === 1) return;
  const tx = await trx(TX_TABLE).where({ xid }).first('status');
  if (!tx) throw new TxNotFoundError(xid);
  const branch = await trx(BRANCH_TABLE).where({ xid, branch_id: r.branchId }).first('status', 'try_result');
  if (!branch) throw new BranchNotFoundError(xid, r.branchId);
  if (branch.status === status && (branch.try_result ?? null) === r.resultJson) return;
  throw new TxNotTryingError(xid, tx.status);
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
