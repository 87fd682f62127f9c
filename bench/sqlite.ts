import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { dueQuery } from '../coordinator/src/log/queries/findDue.js';
import type { StoreAdmin } from './store.js';

/**
 * The embedded log: a SQLite file in one directory, each "database" a file `<name>.db`
 * there. No server: its work is done in the coordinator's process and counted in the
 * coordinator's CPU, and there is no server-wide commit counter (the coordinator's own
 * log commits/tx stands for it).
 */
export class SqliteAdmin implements StoreAdmin {
  readonly label = 'SQLite';

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** `sqlite:<dir>/<name>.db`, the URL the coordinator is given. */
  static fileUrl(databaseUrl: string): { dir: string; name: string } {
    const path = databaseUrl.slice('sqlite:'.length);
    const name = path.split('/').pop()!.replace(/\.db$/, '');
    if (!/^[A-Za-z0-9_]{1,64}$/.test(name)) throw new Error(`bench SQLite file must be <dir>/[A-Za-z0-9_].db, got "${path}"`);
    return { dir: dirname(path), name };
  }

  async describe(): Promise<string> {
    const version = await withFile(':memory:', async (db) => ((await db.raw('SELECT sqlite_version() AS v')) as { v: string }[])[0]!.v);
    // database.ts opens the log with these pragmas: every commit is fsynced
    return `SQLite ${version} (better-sqlite3, in the coordinator's process) in ${this.dir}, journal_mode=WAL, synchronous=FULL (durable)`;
  }

  async recreate(name: string): Promise<void> {
    await this.drop(name);
  }

  async drop(name: string): Promise<void> {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(join(this.dir, `${name}.db${suffix}`), { force: true });
  }

  async commits(): Promise<number | null> {
    return null;
  }

  async cpuSeconds(): Promise<number | null> {
    return null;
  }

  async preload(): Promise<void> {
    throw new Error('--preload fills a MySQL or PostgreSQL log; use --store mysql or postgres');
  }

  async sweepPlan(name: string): Promise<string> {
    return withFile(join(this.dir, `${name}.db`), async (db) => {
      const { sql, bindings } = dueQuery(db, Date.now(), 64).toSQL().toNative();
      const plan = (await db.raw(`EXPLAIN QUERY PLAN ${sql}`, [...bindings])) as { detail: string }[];
      return plan.map((r) => r.detail).join(' | ');
    });
  }

  async close(): Promise<void> {}
}

async function withFile<T>(filename: string, use: (db: Knex) => Promise<T>): Promise<T> {
  const db = knexFactory({ client: 'better-sqlite3', connection: { filename }, useNullAsDefault: true, pool: { min: 0, max: 1 } });
  try {
    return await use(db);
  } finally {
    await db.destroy();
  }
}
