import { readFile } from 'node:fs/promises';
import knexFactory from 'knex';
import mysql from 'mysql2/promise';
import { dueQuery } from '../coordinator/src/log/queries/findDue.js';
import { mysqlServerPid, cpuSecondsOf } from './processes.js';
import { BRANCH_COLUMNS, preloadInBatches, TX_COLUMNS, type StoreAdmin } from './store.js';

/** The server-wide counters the bench reads before and after a scenario. */
export interface MysqlCounters {
  /** COMMIT statements executed: one per log write transaction (the coordinator never writes in autocommit). */
  comCommit: number;
}

export function serverUrl(databaseUrl: string): string {
  const u = new URL(databaseUrl);
  u.pathname = '/';
  return u.toString();
}

export function databaseName(databaseUrl: string): string {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  if (!/^[A-Za-z0-9_]{1,64}$/.test(name)) throw new Error(`bench database name must be [A-Za-z0-9_], got "${name}"`);
  return name;
}

export class MysqlAdmin implements StoreAdmin {
  readonly label = 'MySQL';
  #pid: Promise<number | null> | null = null;

  private constructor(
    private readonly conn: mysql.Connection,
    private readonly url: string,
  ) {}

  static async connect(databaseUrl: string): Promise<MysqlAdmin> {
    return new MysqlAdmin(await mysql.createConnection({ uri: serverUrl(databaseUrl), multipleStatements: false }), databaseUrl);
  }

  async describe(): Promise<string> {
    const flush = await this.variable('innodb_flush_log_at_trx_commit');
    const version = String(((await this.query('SELECT VERSION() AS v')) as { v: string }[])[0]?.v);
    return `MySQL ${version} at ${new URL(this.url).host}, innodb_flush_log_at_trx_commit=${flush}${flush === '1' ? ' (durable)' : ' (NOT durable: figures are not comparable)'}`;
  }

  async commits(): Promise<number> {
    return (await this.counters()).comCommit;
  }

  async cpuSeconds(): Promise<number | null> {
    this.#pid ??= this.#serverPid();
    const pid = await this.#pid;
    return pid ? cpuSecondsOf(pid) : null;
  }

  /** This server's pid from its own pid file (another mariadbd may run on the host), else the first one found. */
  async #serverPid(): Promise<number | null> {
    try {
      const file = String(((await this.query('SELECT @@pid_file AS f')) as { f: string }[])[0]?.f);
      return Number((await readFile(file, 'utf8')).trim());
    } catch {
      return mysqlServerPid();
    }
  }

  preload(databaseUrl: string, count: number, onProgress?: (done: number) => void): Promise<void> {
    return preloadLog(databaseUrl, count, onProgress);
  }

  async sweepPlan(db: string): Promise<string> {
    await this.query(`ANALYZE TABLE \`${db}\`.dtx_global_tx, \`${db}\`.dtx_branch`);
    const sweep = sweepQuery(db);
    const plan = (await this.query(`EXPLAIN ${sweep.sql}`, sweep.bindings)) as Record<string, unknown>[];
    return plan.map((p) => `table=${p.table} type=${p.type} key=${p.key} rows=${p.rows} extra=${p.Extra}`).join(' | ');
  }

  async variable(name: string): Promise<string | null> {
    const [rows] = await this.conn.query('SHOW GLOBAL VARIABLES LIKE ?', [name]);
    return (rows as { Value: string }[])[0]?.Value ?? null;
  }

  async counters(): Promise<MysqlCounters> {
    const [rows] = await this.conn.query(`SHOW GLOBAL STATUS WHERE Variable_name = 'Com_commit'`);
    return { comCommit: Number((rows as { Value: string }[])[0]?.Value ?? NaN) };
  }

  /** Drops and recreates a database the bench owns. */
  async recreate(name: string): Promise<void> {
    await this.conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await this.conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  }

  async drop(name: string): Promise<void> {
    await this.conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
  }

  async query(sql: string, values?: unknown[]): Promise<unknown[]> {
    const [rows] = await this.conn.query(sql, values);
    return rows as unknown[];
  }

  async close(): Promise<void> {
    await this.conn.end();
  }
}

/**
 * Fills the coordinator's (already migrated) log with `count` committed
 * transactions of two confirmed branches each, with multi-row INSERTs on a few
 * connections: seconds, not the hours the API would take.
 */
export async function preloadLog(databaseUrl: string, count: number, onProgress?: (done: number) => void): Promise<void> {
  const pool = mysql.createPool({ uri: databaseUrl, connectionLimit: 4 });
  const batch = 2000;
  const write = async (txRows: unknown[][], branchRows: unknown[][]) => {
    const conn = await pool.getConnection();
    try {
      await conn.beginTransaction();
      await conn.query(`INSERT INTO dtx_global_tx (${TX_COLUMNS}) VALUES ?`, [txRows]);
      await conn.query(`INSERT INTO dtx_branch (${BRANCH_COLUMNS}) VALUES ?`, [branchRows]);
      await conn.commit();
    } finally {
      conn.release();
    }
  };
  try {
    await preloadInBatches(count, batch, write, onProgress);
  } finally {
    await pool.end();
  }
}

/** The recovery sweep's own query (findDue's), compiled for MySQL against database `db`, for EXPLAIN. */
export function sweepQuery(db: string): { sql: string; bindings: unknown[] } {
  const { sql, bindings } = dueQuery(knexFactory({ client: 'mysql2' }), Date.now(), 64).toSQL().toNative();
  return { sql: sql.replace('`dtx_global_tx`', `\`${db}\`.\`dtx_global_tx\``), bindings: [...bindings] };
}
