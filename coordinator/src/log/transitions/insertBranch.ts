import type { Knex } from 'knex';
import { BranchConflictError, TxNotFoundError, TxNotTryingError } from '../../errors.js';
import { isDuplicateKey } from '../database.js';
import { BRANCH_TABLE, branchFromRow, branchToRow, TX_TABLE, type BranchRecord } from '../records.js';

/**
 * Register: only while the transaction is `trying`. The guarded touch of the
 * transaction row locks it, so a concurrent decision waits for this registration
 * (and then sees the branch) or wins first (and this one is refused).
 */
export async function insertBranch(trx: Knex.Transaction, b: Omit<BranchRecord, 'seq'>): Promise<{ created: boolean }> {
  const touched = await trx(TX_TABLE).where({ xid: b.xid, status: 'trying' }).update({ updated_at: b.createdAt });
  if (touched === 0) {
    const tx = await trx(TX_TABLE).where({ xid: b.xid }).first('status');
    if (!tx) throw new TxNotFoundError(b.xid);
    const existing = await trx(BRANCH_TABLE).where({ xid: b.xid, branch_id: b.branchId }).first();
    if (existing && sameRegistration(branchFromRow(existing), b)) return { created: false };
    throw new TxNotTryingError(b.xid, tx.status);
  }
  const last = await trx(BRANCH_TABLE).where({ xid: b.xid }).max({ seq: 'seq' }).first();
  const seq = Number(last?.seq ?? 0) + 1;
  try {
    await trx(BRANCH_TABLE).insert(branchToRow({ ...b, seq }));
    return { created: true };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const existing = await trx(BRANCH_TABLE).where({ xid: b.xid, branch_id: b.branchId }).first();
    if (existing && sameRegistration(branchFromRow(existing), b)) return { created: false };
    throw new BranchConflictError(b.xid, b.branchId);
  }
}

export function sameRegistration(a: Omit<BranchRecord, 'seq'>, b: Omit<BranchRecord, 'seq'>): boolean {
  return (
    a.action === b.action &&
    a.tryUrl === b.tryUrl &&
    a.confirmUrl === b.confirmUrl &&
    a.cancelUrl === b.cancelUrl &&
    a.payloadJson === b.payloadJson &&
    a.timeoutMs === b.timeoutMs
  );
}
