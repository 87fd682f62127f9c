import type { Knex } from 'knex';
import { dialectOf, isDuplicateKey } from './database.js';

/**
 * Inserts `row` unless a row with the same `key` exists; false if one did. On
 * PostgreSQL a failed statement aborts the whole database transaction (and with it
 * the batch's other writes), so there the insert says so itself, with ON CONFLICT
 * DO NOTHING. MySQL's equivalent, INSERT IGNORE, would also turn other errors into
 * warnings, so MySQL and SQLite insert and catch the duplicate key.
 */
export async function insertIfAbsent(trx: Knex.Transaction, table: string, row: Record<string, unknown>, key: string[]): Promise<boolean> {
  if (dialectOf(trx) === 'postgres') {
    const inserted: unknown[] = await trx(table).insert(row).onConflict(key).ignore().returning(key);
    return inserted.length === 1;
  }
  try {
    await trx(table).insert(row);
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}
