import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { DatabaseUrlError, DriverMissingError } from '../errors.js';

const require = createRequire(import.meta.url);

export interface KnexFromUrlOptions {
  /** Connections in the pool (MySQL/Postgres; SQLite always uses one). @default 10 */
  poolMax?: number;
}

/**
 * A knex instance for `sqlite:<path>`, `mysql://user:pass@host:port/db` or
 * `postgres://user@host:port/db`, the same URL forms the coordinator takes.
 */
export function knexFromUrl(url: string, options: KnexFromUrlOptions = {}): Knex {
  const poolMax = options.poolMax ?? 10;
  if (url.startsWith('sqlite:')) {
    requireDriver('better-sqlite3', 'sqlite:');
    const filename = url.slice('sqlite:'.length);
    if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
    return knexFactory({
      client: 'better-sqlite3',
      connection: { filename },
      useNullAsDefault: true,
      // One connection: SQLite serialises writers anyway, and a second connection would only meet SQLITE_BUSY.
      pool: {
        min: 1,
        max: 1,
        // WAL: a commit appends to the log instead of rewriting pages, several times faster per small transaction.
        afterCreate: (conn: { pragma(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) => {
          conn.pragma('journal_mode = WAL');
          conn.pragma('busy_timeout = 5000');
          done(null, conn);
        },
      },
    });
  }
  if (url.startsWith('mysql://')) {
    requireDriver('mysql2', 'mysql://');
    return knexFactory({ client: 'mysql2', connection: url, pool: { min: 0, max: poolMax } });
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    requireDriver('pg', 'postgres://');
    return knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: poolMax } });
  }
  throw new DatabaseUrlError(url);
}

/** The drivers are optional peer dependencies: name the missing one before knex fails on it at the first query. */
function requireDriver(packageName: string, scheme: string): void {
  try {
    require.resolve(packageName);
  } catch (cause) {
    throw new DriverMissingError(packageName, scheme, { cause });
  }
}
