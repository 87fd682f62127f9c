import type { Knex } from 'knex';
import { inStatements } from '../multi-row.js';
import { cachedText, execute, list } from '../raw-statements.js';
import { TX_TABLE } from '../records.js';

/** Prepared text (raw-statements.ts), not the query builder: an initiator's commit runs it. */
const lockIfTrying = cachedText((n: number) => `UPDATE ${TX_TABLE} SET updated_at = updated_at WHERE xid IN (${list(n)}) AND status = ? AND tx_mode = 'tcc'`);

/**
 * Locks these transactions' rows while they are `trying` TCC transactions (a guarded
 * update that changes nothing; a saga's steps are all given at its begin), so a decision waits for what this database transaction adds to
 * them, or wins first; true only if every one of them is still trying.
 */
export async function lockTrying(trx: Knex.Transaction, xids: string[]): Promise<boolean> {
  let locked = 0;
  for (const part of inStatements(xids)) {
    // the rows matched, not changed: mysql2's FOUND_ROWS, pg's rowCount, SQLite's changes all count a no-op update
    locked += await execute(trx, lockIfTrying(part.length), [...part, 'trying']);
  }
  return locked === xids.length;
}
