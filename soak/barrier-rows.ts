import type { Knex } from 'knex';

/**
 * Inserts a row unless its primary key exists, in one statement; true when this call
 * inserted it. Insert-first, as the SDK's barrier does: the row count decides, and no
 * read ever locks a missing row (LESSONS.md, fence deadlocks). MySQL/MariaDB, PostgreSQL and SQLite.
 */
export async function insertOnce(k: Knex | Knex.Transaction, table: string, row: Record<string, string | number>): Promise<boolean> {
  const columns = Object.keys(row);
  const values = Object.values(row);
  const list = `(${columns.map(() => '??').join(', ')}) VALUES (${values.map(() => '?').join(', ')})`;
  const client = String((k.client as { config?: { client?: unknown } }).config?.client ?? '');
  if (client.startsWith('mysql')) {
    const [header] = (await k.raw(`INSERT IGNORE INTO ?? ${list}`, [table, ...columns, ...values])) as [{ affectedRows: number }];
    return header.affectedRows === 1;
  }
  if (!client.includes('sqlite') && client !== 'pg') throw new Error(`insertOnce: the soak's wallets run on MariaDB, PostgreSQL or SQLite, not ${client}`);
  // RETURNING says what was inserted: knex hands back SQLite's rows as an array, PostgreSQL's in a result's `rows`
  const result = (await k.raw(`INSERT INTO ?? ${list} ON CONFLICT DO NOTHING RETURNING 1`, [table, ...columns, ...values])) as unknown[] | { rows: unknown[] };
  return (Array.isArray(result) ? result : result.rows).length === 1;
}

/** A barrier table of the soak's own (`xid`, `branch_id`, `op`, `reason`; the first three the key), created once. */
export async function ensureBarrierRows(knex: Knex, table: string): Promise<void> {
  if (await knex.schema.hasTable(table)) return;
  await knex.schema.createTable(table, (t) => {
    t.string('xid', 128).notNullable();
    t.string('branch_id', 64).notNullable();
    t.string('op', 16).notNullable();
    t.string('reason', 16).notNullable();
    t.primary(['xid', 'branch_id', 'op']);
  });
}
