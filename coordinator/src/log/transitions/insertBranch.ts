import type { Knex } from 'knex';
import { BranchConflictError, TxNotFoundError, TxNotTryingError } from '../../errors.js';
import { isDuplicateKey } from '../database.js';
import { BRANCH_TABLE, branchFromRow, branchToRow, TX_TABLE, type BranchRecord } from '../records.js';

/**
 * Register: only while the transaction is `trying`. The guarded no-op update
 * locks the transaction row first, so a concurrent decision waits for this
 * registration (and then sees the branch) or wins first (and this one is
 * refused), and a concurrent registration of the same branch is seen here.
 * Only a new branch touches the transaction: a repeat or a refusal writes nothing.
 */
export async function insertBranch(trx: Knex.Transaction, b: Omit<BranchRecord, 'seq'>): Promise<{ created: boolean }> {
  const locked = await trx(TX_TABLE).where({ xid: b.xid, status: 'trying' }).update({ updated_at: trx.ref('updated_at') });
  const existing = await trx(BRANCH_TABLE).where({ xid: b.xid, branch_id: b.branchId }).first();
  if (existing && sameRegistration(branchFromRow(existing), b)) return { created: false };
  if (locked === 0) {
    const tx = await trx(TX_TABLE).where({ xid: b.xid }).first('status');
    if (!tx) throw new TxNotFoundError(b.xid);
    throw new TxNotTryingError(b.xid, tx.status);
  }
  if (existing) throw new BranchConflictError(b.xid, b.branchId);
  const last = await trx(BRANCH_TABLE).where({ xid: b.xid }).max({ seq: 'seq' }).first();
  const seq = Number(last?.seq ?? 0) + 1;
  try {
    await trx(BRANCH_TABLE).insert(branchToRow({ ...b, seq }));
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const raced = await trx(BRANCH_TABLE).where({ xid: b.xid, branch_id: b.branchId }).first();
    if (raced && sameRegistration(branchFromRow(raced), b)) return { created: false };
    throw new BranchConflictError(b.xid, b.branchId);
  }
  await trx(TX_TABLE).where({ xid: b.xid }).update({ updated_at: b.createdAt });
  return { created: true };
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
