import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { STATEMENT_TIMEOUT_MS } from './answer-within.js';
import { openPostgres } from './postgres.js';

export type Dialect = 'mysql' | 'sqlite' | 'postgres';

export interface Database {
  knex: Knex;
  dialect: Dialect;
}

/**
 * Opens the log's database from a `sqlite:<path>`, `mysql://…/db` or `postgres://…/db`
 * (`postgresql://`) URL; a MySQL or PostgreSQL database is created if missing.
 */
export async function openDatabase(url: string, poolMax = 16): Promise<Database> {
  if (url.startsWith('sqlite:')) return { knex: openSqlite(url.slice('sqlite:'.length)), dialect: 'sqlite' };
  if (/^postgres(ql)?:\/\//.test(url)) return { knex: await openPostgres(url, poolMax), dialect: 'postgres' };
  await createMysqlDatabase(url);
  const knex = knexFactory({
    client: 'mysql2',
    connection: { uri: url, supportBigNumbers: true, bigNumberStrings: false, dateStrings: true } as Knex.MySql2ConnectionConfig,
    pool: {
      min: 0,
      max: poolMax,
      // A batch is one database transaction of many writes. At MySQL's default REPEATABLE READ
      // its first plain read fixes a snapshot, so a write that loses a guarded update later in
      // the batch would read the past (a commit answered "rolled back" while another coordinator
      // committed it). READ COMMITTED reads what is committed, and takes no gap locks.
      afterCreate: (conn: MysqlConnection, done: (err: Error | null, conn: unknown) => void) => {
        setUpMysqlSession(conn).then(() => done(null, conn), (err: Error) => done(err, conn));
      },
    },
  });
  return { knex, dialect: 'mysql' };
}

interface MysqlConnection {
  query(sql: string, cb: (err: (Error & { errno?: number }) | null) => void): void;
}

const run = (conn: MysqlConnection, sql: string) =>
  new Promise<void>((resolve, reject) => conn.query(sql, (err) => (err ? reject(err) : resolve())));

/**
 * READ COMMITTED (see openDatabase), the statement timeout (MariaDB's max_statement_time,
 * MySQL's max_execution_time for SELECTs, and lock waits), and on a Galera cluster causal
 * reads: wsrep_sync_wait=1 makes a read wait until its node has applied every write the
 * cluster committed before it, so a coordinator reading through one node sees the decision
 * another took through another node (without it, replication is synchronous but applying
 * is not). Off a cluster (wsrep_on=OFF) MariaDB keeps the setting and does nothing with it.
 */
async function setUpMysqlSession(conn: MysqlConnection): Promise<void> {
  await run(conn, 'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
  await run(conn, `SET SESSION innodb_lock_wait_timeout = ${Math.ceil(STATEMENT_TIMEOUT_MS / 1000)}`);
  try {
    await run(conn, `SET SESSION max_statement_time = ${STATEMENT_TIMEOUT_MS / 1000}`);
    await run(conn, 'SET SESSION wsrep_sync_wait = 1');
  } catch (err) {
    if ((err as { errno?: number }).errno !== 1193) throw err; // unknown variable: MySQL, not MariaDB
    await run(conn, `SET SESSION max_execution_time = ${STATEMENT_TIMEOUT_MS}`);
  }
}

function openSqlite(path: string): Knex {
  const memory = path === ':memory:';
  if (!memory) mkdirSync(dirname(resolve(path)), { recursive: true });
  return knexFactory({
    client: 'better-sqlite3',
    connection: { filename: memory ? ':memory:' : resolve(path) },
    useNullAsDefault: true,
    // one connection: SQLite has one writer, and an in-memory database lives as long as its connection
    pool: {
      min: 1,
      max: 1,
      idleTimeoutMillis: Number.MAX_SAFE_INTEGER,
      afterCreate: (conn: { pragma(s: string): unknown }, done: (err: Error | null, conn: unknown) => void) => {
        try {
          conn.pragma('journal_mode = WAL');
          conn.pragma('synchronous = FULL');
          conn.pragma('busy_timeout = 5000');
          done(null, conn);
        } catch (e) {
          done(e as Error, conn);
        }
      },
    },
  });
}

async function createMysqlDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.slice(1));
  if (!/^[A-Za-z0-9_$-]{1,64}$/.test(name)) throw new Error(`invalid MySQL database name "${name}"`);
  u.pathname = '/';
  const admin = knexFactory({ client: 'mysql2', connection: u.toString(), pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  } finally {
    await admin.destroy();
  }
}

/** The dialect a knex instance (or transaction) speaks. */
export function dialectOf(knex: Knex): Dialect {
  const client = String(knex.client.config.client);
  if (client === 'pg') return 'postgres';
  return client === 'mysql2' ? 'mysql' : 'sqlite';
}

/** Duplicate primary key, on any dialect. */
export function isDuplicateKey(err: unknown): boolean {
  const e = err as { code?: string; errno?: number };
  return (
    e?.code === 'ER_DUP_ENTRY' || e?.errno === 1062 || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === '23505'
  );
}

/** Deadlock, lock wait timeout, busy; on PostgreSQL serialization_failure and deadlock_detected. */
const CONFLICT_CODES = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'SQLITE_BUSY', '40001', '40P01']);

/**
 * The database refused a value as data: PostgreSQL's class 22 (U+0000 in text, a number
 * out of range, a string too long), MySQL's strict-mode value errors. Not an outage:
 * retrying the same write fails the same way.
 */
const MYSQL_DATA_ERRORS = new Set(['ER_DATA_TOO_LONG', 'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD', 'ER_TRUNCATED_WRONG_VALUE', 'ER_WARN_DATA_OUT_OF_RANGE', 'ER_INVALID_CHARACTER_STRING']);
export function isDataError(err: unknown): boolean {
  const e = err as { code?: string };
  const code = e?.code ?? '';
  return MYSQL_DATA_ERRORS.has(code) || (/^22[0-9A-Z]{3}$/.test(code) && !CONFLICT_CODES.has(code)) || code === 'SQLITE_TOOBIG';
}

/** An error after which the whole transaction is gone and may be retried as a whole. */
export function isRetryableConflict(err: unknown): boolean {
  const e = err as { code?: string; errno?: number };
  return CONFLICT_CODES.has(e?.code ?? '') || e?.errno === 1213;
}
