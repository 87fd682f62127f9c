import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from './database.js';

const SQL_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../sql');

interface Migration {
  name: string;
  statements: string[];
}

export function loadMigrations(dialect: 'mysql' | 'sqlite', root = SQL_ROOT): Migration[] {
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

/**
 * Applies the numbered files of sql/<dialect> not yet recorded in dtx_migrations.
 * Two processes migrating at once serialise on a named lock (MySQL) or the write lock (SQLite).
 */
export async function migrate(db: Database): Promise<string[]> {
  const migrations = loadMigrations(db.dialect);
  return db.knex.transaction(async (trx) => {
    if (db.dialect === 'mysql') await trx.raw(`SELECT GET_LOCK('dtx_migrate', 60)`);
    else await trx.raw(`CREATE TABLE IF NOT EXISTS dtx_migrate_lock (id INTEGER PRIMARY KEY)`); // takes SQLite's write lock now
    try {
      await trx.raw(
        db.dialect === 'mysql'
          ? 'CREATE TABLE IF NOT EXISTS dtx_migrations (name VARCHAR(255) NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)'
          : 'CREATE TABLE IF NOT EXISTS dtx_migrations (name TEXT NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL)',
      );
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
      if (db.dialect === 'mysql') await trx.raw(`SELECT RELEASE_LOCK('dtx_migrate')`);
    }
  });
}
