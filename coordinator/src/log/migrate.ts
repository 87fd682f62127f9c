import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import { STATEMENT_TIMEOUT_MS } from './answer-within.js';
import type { Database, Dialect } from './database.js';

const SQL_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../sql');

interface Migration {
  name: string;
  statements: string[];
}

export function loadMigrations(dialect: Dialect, root = SQL_ROOT): Migration[] {
  const dir = join(root, dialect);
  return readdirSync(dir)
    .filter((f) => /^\d{4}_.*\.sql$/.test(f))
    .sort()
    .map((name) => ({ name, statements: splitStatements(readFileSync(join(dir, name), 'utf8')) }));
}

export function splitStatements(sql: string): string[] {
  return sql
    .split('\n')
    .map((line) => line.replace(/--.*$/, ''))
    .join('\n')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}

interface Serialised {
  /** Runs first in the migration's database transaction; holds off any other migrator until `unlock` or the end of it. */
  lock(trx: Knex.Transaction): Promise<unknown>;
  unlock(trx: Knex.Transaction): Promise<unknown>;
  migrationsTable: string;
}

/** How two processes migrating one database at once take turns, per dialect. */
const SERIALISED: Record<Dialect, Serialised> = {
  mysql: {
    // a migration may run longer than a log statement may (STATEMENT_TIMEOUT_MS): lifted for this session, then restored
    lock: async (trx) => {
      await trx.raw(`SELECT GET_LOCK('dtx_migrate', 60)`);
      await trx.raw('SET SESSION innodb_lock_wait_timeout = 50');
      await trx.raw('SET SESSION max_statement_time = 0').catch(() => trx.raw('SET SESSION max_execution_time = 0'));
    },
    unlock: async (trx) => {
      await trx.raw(`SET SESSION innodb_lock_wait_timeout = ${Math.ceil(STATEMENT_TIMEOUT_MS / 1000)}`);
      await trx.raw(`SET SESSION max_statement_time = ${STATEMENT_TIMEOUT_MS / 1000}`).catch(() => trx.raw(`SET SESSION max_execution_time = ${STATEMENT_TIMEOUT_MS}`));
      await trx.raw(`SELECT RELEASE_LOCK('dtx_migrate')`);
    },
    migrationsTable: 'CREATE TABLE IF NOT EXISTS dtx_migrations (name VARCHAR(255) NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)',
  },
  sqlite: {
    lock: (trx) => trx.raw(`CREATE TABLE IF NOT EXISTS dtx_migrate_lock (id INTEGER PRIMARY KEY)`), // takes SQLite's write lock now
    unlock: async () => {},
    migrationsTable: 'CREATE TABLE IF NOT EXISTS dtx_migrations (name TEXT NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL)',
  },
  postgres: {
    // READ COMMITTED, so what the migrator before us applied is read after the lock; the lock ends with the transaction
    lock: async (trx) => {
      await trx.raw('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
      await trx.raw('SET LOCAL statement_timeout = 0'); // a migration may run longer than a log statement may
      await trx.raw(`SELECT pg_advisory_xact_lock(hashtext('dtx_migrate'))`);
    },
    unlock: async () => {},
    migrationsTable: 'CREATE TABLE IF NOT EXISTS dtx_migrations (name VARCHAR(255) NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)',
  },
};

/**
 * Applies the numbered files of sql/<dialect> not yet recorded in dtx_migrations.
 * Two processes migrating at once serialise (SERIALISED).
 */
export async function migrate(db: Database): Promise<string[]> {
  const migrations = loadMigrations(db.dialect);
  const serialised = SERIALISED[db.dialect];
  return db.knex.transaction(async (trx) => {
    await serialised.lock(trx);
    try {
      await trx.raw(serialised.migrationsTable);
      const done = new Set((await trx('dtx_migrations').select('name')).map((r: { name: string }) => r.name));
      const applied: string[] = [];
      for (const m of migrations) {
        if (done.has(m.name)) continue;
        for (const statement of m.statements) await trx.raw(statement);
        await trx('dtx_migrations').insert({ name: m.name, applied_at: Date.now() });
        applied.push(m.name);
      }
      return applied;
    } finally {
      await serialised.unlock(trx);
    }
  });
}
