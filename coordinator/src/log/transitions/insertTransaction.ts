import type { Knex } from 'knex';
import { isDuplicateKey } from '../database.js';
import { BRANCH_TABLE, branchToRow, TX_TABLE, txFromRow, txToRow, type BranchRecord, type TxRecord } from '../records.js';

export type InsertTxResult = { created: true } | { created: false; existing: TxRecord };

/** Begin: the transaction row (and any branches given with it) in one go; an existing xid is reported, not overwritten. */
export async function insertTransaction(trx: Knex.Transaction, tx: TxRecord, branches: BranchRecord[]): Promise<InsertTxResult> {
  try {
    await trx(TX_TABLE).insert(txToRow(tx));
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const row = await trx(TX_TABLE).where({ xid: tx.xid }).first();
    if (!row) throw err;
    return { created: false, existing: txFromRow(row) };
  }
  if (branches.length > 0) await trx(BRANCH_TABLE).insert(branches.map(branchToRow));
  return { created: true };
}
