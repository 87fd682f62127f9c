import type { Knex } from 'knex';
import { inStatements } from '../multi-row.js';
import { TX_TABLE } from '../records.js';

/**
 * Locks these transactions' rows while they are `trying` (a guarded update that
 * changes nothing), so a decision waits for what this database transaction adds to
 * them, or wins first; true only if every one of them is still trying.
 */
export async function lockTrying(trx: Knex.Transaction, xids: string[]): Promise<boolean> {
  let locked = 0;
  for (const part of inStatements(xids)) {
    locked += await trx(TX_TABLE).whereIn('xid', part).andWhere('status', 'trying').update({ updated_at: trx.ref('updated_at') });
  }
  return locked === xids.length;
}
