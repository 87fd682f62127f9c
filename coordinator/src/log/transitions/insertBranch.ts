import type { Knex } from 'knex';
import { BranchConflictError, InvalidRequestError, TxNotTryingError } from '../../errors.js';
import { isDuplicateKey } from '../database.js';
import { insertIfAbsent } from '../insert-if-absent.js';
import { inStatements } from '../multi-row.js';
import { BRANCH_TABLE, branchFromRow, branchToRow, TX_TABLE, type BranchRecord } from '../records.js';
import { NotCoalesced, type BatchableWrite } from '../write-batcher.js';
import { lockTrying } from './lockTrying.js';
import { readStatus } from '../queries/readStatus.js';

/**
 * Register: only while the transaction is `trying`. The guarded no-op update
 * locks the transaction row first, so a concurrent decision waits for this
 * registration (and then sees the branch) or wins first (and this one is
 * refused), and a concurrent registration of the same branch is seen here.
 * Only a new branch touches the transaction: a repeat or a refusal writes nothing.
 */
export async function insertBranch(trx: Knex.Transaction, b: Omit<BranchRecord, 'seq'>): Promise<{ created: boolean }> {
  const locked = await lockTrying(trx, [b.xid]);
  const existing = await trx(BRANCH_TABLE).where({ xid: b.xid, branch_id: b.branchId }).first();
  if (existing && sameRegistration(branchFromRow(existing), b)) return { created: false };
  if (!locked) {
    const tx = await readStatus(trx, b.xid);
    if (tx.mode !== 'tcc') throw new InvalidRequestError(`a ${tx.mode}’s steps are given at its begin`, [{ path: '/branchId', message: `transaction ${b.xid} is a ${tx.mode}` }]);
    throw new TxNotTryingError(b.xid, tx.status);
  }
  if (existing) throw new BranchConflictError(b.xid, b.branchId);
  const last = await trx(BRANCH_TABLE).where({ xid: b.xid }).max({ seq: 'seq' }).first();
  const seq = Number(last?.seq ?? 0) + 1;
  if (!(await insertIfAbsent(trx, BRANCH_TABLE, branchToRow({ ...b, seq }), ['xid', 'branch_id']))) {
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

/**
 * Register, coalesced: the batch's new branches of `trying` transactions in a few
 * statements (lock the transactions, number the branches, one multi-row insert).
 * A transaction that is not trying, or a branch that exists (a repeat, a conflict),
 * sends the batch back to insertBranch one at a time.
 */
export const insertBranchWrite: BatchableWrite<Omit<BranchRecord, 'seq'>, { created: boolean }> = {
  one: insertBranch,
  async many(trx, branches) {
    const xids = [...new Set(branches.map((b) => b.xid))];
    if (!(await lockTrying(trx, xids))) throw new NotCoalesced('a transaction is not trying');
    const lastSeq = new Map<string, number>();
    for (const part of inStatements(xids)) {
      const rows: { xid: string; seq: number | string | null }[] = await trx(BRANCH_TABLE).whereIn('xid', part).groupBy('xid').select('xid').max({ seq: 'seq' });
      for (const r of rows) lastSeq.set(r.xid, Number(r.seq ?? 0));
    }
    const rows = branches.map((b) => {
      const seq = (lastSeq.get(b.xid) ?? 0) + 1;
      lastSeq.set(b.xid, seq);
      return branchToRow({ ...b, seq });
    });
    try {
      for (const part of inStatements(rows)) await trx(BRANCH_TABLE).insert(part);
    } catch (err) {
      if (isDuplicateKey(err)) throw new NotCoalesced('a branch exists');
      throw err;
    }
    const now = Math.max(...branches.map((b) => b.createdAt));
    for (const part of inStatements(xids)) await trx(TX_TABLE).whereIn('xid', part).update({ updated_at: now });
    return branches.map(() => ({ created: true }));
  },
};
