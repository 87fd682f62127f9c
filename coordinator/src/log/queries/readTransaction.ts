import type { Knex } from 'knex';
import { select } from '../raw-statements.js';
import { BRANCH_TABLE, branchFromRow, TX_TABLE, txFromRow, type BranchRecord, type TxRecord } from '../records.js';

// Prepared text (raw-statements.ts), not the query builder: phase 2 after an initiator's commit starts with this read.
const SELECT_TX = `SELECT * FROM ${TX_TABLE} WHERE xid = ? LIMIT 1`;
const SELECT_BRANCHES = `SELECT * FROM ${BRANCH_TABLE} WHERE xid = ? ORDER BY seq ASC`;

export async function readTx(db: Knex, xid: string): Promise<TxRecord | null> {
  const [row] = await select(db, SELECT_TX, [xid]);
  return row ? txFromRow(row) : null;
}

export async function readBranches(db: Knex, xid: string): Promise<BranchRecord[]> {
  const rows = await select(db, SELECT_BRANCHES, [xid]);
  return rows.map(branchFromRow);
}

export async function readTxWithBranches(db: Knex, xid: string): Promise<{ tx: TxRecord; branches: BranchRecord[] } | null> {
  const tx = await readTx(db, xid);
  return tx ? { tx, branches: await readBranches(db, xid) } : null;
}
