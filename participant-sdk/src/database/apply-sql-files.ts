import { readdir, readFile } from 'node:fs/promises';
import type { Knex } from 'knex';
import { barrierDialect, type BarrierDialect } from '../barrier/dialect.js';

/** The DDL lives once, in this package's `sql/<dialect>/NNNN_*.sql`, applied in order. */
const SQL_DIR = new URL('../../sql/', import.meta.url);

/** Which of those files a database has had applied. */
const MIGRATIONS_TABLE: Record<BarrierDialect, string> = {
  mysql: 'CREATE TABLE IF NOT EXISTS dtx_barrier_migrations (name VARCHAR(255) NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL) ENGINE=InnoDB',
  postgres: 'CREATE TABLE IF NOT EXISTS dtx_barrier_migrations (name VARCHAR(255) NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)',
  sqlite: 'CREATE TABLE IF NOT EXISTS dtx_barrier_migrations (name TEXT NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL)',
};

/**
 * Applies this package's numbered DDL files of one family (`NNNN_<family>*.sql` in
 * `sql/<dialect>/`) that `dtx_barrier_migrations` does not record yet, in order, and
 * records each. Two processes starting at once may both run a file; every statement is DDL
 * whose second run fails with "already exists" (duplicate column, table, index), which
 * means the other process applied it, so that error is taken as done.
 */
export async function applySqlFiles(knex: Knex, family: 'barrier' | 'fmt'): Promise<void> {
  const dialect = barrierDialect(knex);
  const dir = new URL(`${dialect}/`, SQL_DIR);
  const pattern = new RegExp(`^\\d{4}_${family}.*\\.sql$`);
  const files = (await readdir(dir)).filter((f) => pattern.test(f)).sort();
  await applyStatement(knex, dialect, MIGRATIONS_TABLE[dialect]);
  const done = new Set(((await knex('dtx_barrier_migrations').select('name')) as { name: string }[]).map((r) => r.name));
  for (const name of files) {
    if (done.has(name)) continue;
    for (const statement of splitStatements(await readFile(new URL(name, dir), 'utf8'))) await applyStatement(knex, dialect, statement);
    const insert = dialect === 'mysql' ? 'INSERT IGNORE INTO' : 'INSERT INTO';
    const tail = dialect === 'mysql' ? '' : ' ON CONFLICT DO NOTHING';
    await knex.raw(`${insert} dtx_barrier_migrations (name, applied_at) VALUES (?, ?)${tail}`, [name, Date.now()]);
  }
}

async function applyStatement(knex: Knex, dialect: BarrierDialect, statement: string): Promise<void> {
  try {
    await knex.raw(statement);
  } catch (err) {
    if (!alreadyApplied(dialect, statement, err)) throw err;
  }
}

/** MySQL: duplicate column / table / key name. Postgres: duplicate column / table / object, or
 * the pg_type unique violation of two concurrent CREATE TABLE IF NOT EXISTS. SQLite: by message. */
function alreadyApplied(dialect: BarrierDialect, statement: string, err: unknown): boolean {
  const { errno, code, message } = (err ?? {}) as { errno?: unknown; code?: unknown; message?: unknown };
  switch (dialect) {
    case 'mysql':
      return errno === 1060 || errno === 1050 || errno === 1061;
    case 'postgres':
      return code === '42701' || code === '42P07' || code === '42710' || (code === '23505' && /^CREATE TABLE/i.test(statement));
    case 'sqlite':
      return typeof message === 'string' && /duplicate column name|already exists/i.test(message);
  }
}

/** The files hold plain DDL: statements end with `;` at the end of a line, comments start with `--`. */
function splitStatements(sql: string): string[] {
  const body = sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n');
  return body
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
