import type { Knex } from 'knex';
import { isDuplicateKey } from '../database.js';
import { insertIfAbsent } from '../insert-if-absent.js';
import { inStatements } from '../multi-row.js';
import { insertInto } from '../raw-statements.js';
import { BRANCH_COLUMNS, BRANCH_TABLE, branchToRow, TX_COLUMNS, TX_TABLE, txFromRow, txToRow, type BranchRecord, type TxRecord } from '../records.js';
import { NotCoalesced, type BatchableWrite } from '../write-batcher.js';

export type InsertTxResult = { created: true } | { created: false; existing: TxRecord };

/** Begin: the transaction row (and any branches given with it) in one go; an existing xid is reported, not overwritten. */
export async function insertTransaction(trx: Knex.Transaction, tx: TxRecord, branches: BranchRecord[]): Promise<InsertTxResult> {
  if (!(await insertIfAbsent(trx, TX_TABLE, txToRow(tx), ['xid']))) {
    const row = await trx(TX_TABLE).where({ xid: tx.xid }).first();
    if (!row) throw new Error(`xid ${tx.xid} exists and cannot be read`);
    return { created: false, existing: txFromRow(row) };
  }
  if (branches.length > 0) await trx(BRANCH_TABLE).insert(branches.map(branchToRow));
  return { created: true };
}

// the coalesced begin is on every transaction's path: prepared text (raw-statements.ts), not the query builder
const insertTxRows = insertInto(TX_TABLE, TX_COLUMNS);
const insertBranchRows = insertInto(BRANCH_TABLE, BRANCH_COLUMNS);

/** Begin, coalesced: the concurrent begins of a batch as multi-row inserts; an existing xid among them sends the batch back to one at a time. */
export const insertTransactionWrite: BatchableWrite<{ tx: TxRecord; branches: BranchRecord[] }, InsertTxResult> = {
  one: (trx, begin) => insertTransaction(trx, begin.tx, begin.branches),
  async many(trx, begins) {
    try {
      for (const rows of inStatements(begins.map((b) => txToRow(b.tx)))) await insertTxRows(trx, rows);
    } catch (err) {
      if (isDuplicateKey(err)) throw new NotCoalesced('an xid exists');
      throw err;
    }
    for (const rows of inStatements(begins.flatMap((b) => b.branches.map(branchToRow)))) await insertBranchRows(trx, rows);
    return begins.map(() => ({ created: true }));
  },
};
