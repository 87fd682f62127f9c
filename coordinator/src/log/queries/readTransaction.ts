import type { Knex } from 'knex';
import { BRANCH_TABLE, branchFromRow, TX_TABLE, txFromRow, type BranchRecord, type TxRecord } from '../records.js';

export async function readTx(db: Knex, xid: string): Promise<TxRecord | null> {
  const row = await db(TX_TABLE).where({ xid }).first();
  return row ? txFromRow(row) : null;
}

export async function readBranches(db: Knex, xid: string): Promise<BranchRecord[]> {
  const rows = await db(BRANCH_TABLE).where({ xid }).orderBy('seq', 'asc');
  return rows.map(branchFromRow);
}

export async function readTxWithBranches(db: Knex, xid: string): Promise<{ tx: TxRecord; branches: BranchRecord[] } | null> {
  const tx = await readTx(db, xid);
  return tx ? { tx, branches: await readBranches(db, xid) } : null;
}
