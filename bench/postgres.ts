import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import knexFactory from 'knex';
import pg from 'pg';
import { dueQuery } from '../coordinator/src/log/queries/findDue.js';
import { BRANCH_COLUMNS, preloadInBatches, TX_COLUMNS, type StoreAdmin } from './store.js';

/** The bench's PostgreSQL server, through its maintenance database `postgres`. */
export class PostgresAdmin implements StoreAdmin {
  readonly label = 'PostgreSQL';
  #postmaster: Promise<number | null> | null = null;

  private constructor(
    private readonly client: pg.Client,
    private readonly url: string,
  ) {}

  static async connect(databaseUrl: string): Promise<PostgresAdmin> {
    const u = new URL(databaseUrl);
    u.pathname = '/postgres';
    const client = new pg.Client({ connectionString: u.toString() });
    await client.connect();
    return new PostgresAdmin(client, databaseUrl);
  }

  async describe(): Promise<string> {
    const setting = async (name: string) => String((await this.client.query(`SELECT current_setting($1) AS v`, [name])).rows[0]?.v);
    const [version, sync, fsync] = [await setting('server_version'), await setting('synchronous_commit'), await setting('fsync')];
    const durable = sync === 'on' && fsync === 'on';
    return `PostgreSQL ${version} at ${new URL(this.url).host}, synchronous_commit=${sync}, fsync=${fsync}${durable ? ' (durable)' : ' (NOT durable: figures are not comparable)'}`;
  }

  async recreate(name: string): Promise<void> {
    await this.drop(name);
    await this.client.query(`CREATE DATABASE "${name}"`);
  }

  async drop(name: string): Promise<void> {
    await this.client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }

  /**
   * Write transactions so far, server-wide: the next transaction id. Every write
   * transaction takes one id when it commits (or aborts), a read-only one none, and
   * reading it takes none, so it counts the log's commits as Com_commit does on MySQL.
   */
  async commits(): Promise<number> {
    const r = await this.client.query(`SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS xmax`);
    return Number(r.rows[0]!.xmax);
  }

  /** The postmaster, its live children (backends, WAL writer, …) and its reaped ones (cutime, cstime). */
  async cpuSeconds(): Promise<number | null> {
    this.#postmaster ??= this.#postmasterPid();
    const pid = await this.#postmaster;
    if (pid === null) return null;
    const own = await statFields(pid);
    if (!own) return null;
    let ticks = own[11]! + own[12]! + own[13]! + own[14]!;
    for (const entry of await readdir('/proc').catch(() => [] as string[])) {
      if (!/^\d+$/.test(entry)) continue;
      const f = await statFields(Number(entry));
      if (f && f[1] === pid) ticks += f[11]! + f[12]!;
    }
    return ticks / 100;
  }

  async #postmasterPid(): Promise<number | null> {
    try {
      const dir = String((await this.client.query('SHOW data_directory')).rows[0]?.data_directory);
      return Number((await readFile(join(dir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    } catch {
      return null; // not on this host, or not readable
    }
  }

  async preload(databaseUrl: string, count: number, onProgress?: (done: number) => void): Promise<void> {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    const batch = 2000; // per statement at most 2000 rows (30,000 parameters; the protocol allows 65,535)
    const insert = (client: pg.PoolClient, table: string, columns: string, rows: unknown[][]) => {
      const width = rows[0]!.length;
      const values = rows.map((_, i) => `(${Array.from({ length: width }, (_, j) => `$${i * width + j + 1}`).join(', ')})`).join(', ');
      return client.query(`INSERT INTO ${table} (${columns}) VALUES ${values}`, rows.flat());
    };
    const write = async (txRows: unknown[][], branchRows: unknown[][]) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await insert(client, 'dtx_global_tx', TX_COLUMNS, txRows);
        for (let i = 0; i < branchRows.length; i += batch) await insert(client, 'dtx_branch', BRANCH_COLUMNS, branchRows.slice(i, i + batch));
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    };
    try {
      await preloadInBatches(count, batch, write, onProgress);
    } finally {
      await pool.end();
    }
  }

  async sweepPlan(db: string): Promise<string> {
    const u = new URL(this.url);
    u.pathname = `/${db}`;
    const client = new pg.Client({ connectionString: u.toString() });
    await client.connect();
    try {
      await client.query('ANALYZE dtx_global_tx');
      const { sql, bindings } = dueQuery(knexFactory({ client: 'pg' }), Date.now(), 64).toSQL().toNative();
      const plan = await client.query(`EXPLAIN ${sql}`, [...bindings]);
      return plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']!.trim()).join(' | ');
    } finally {
      await client.end();
    }
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}

/** /proc/<pid>/stat after the command name, as numbers: [1] ppid, [11] utime, [12] stime, [13] cutime, [14] cstime. */
async function statFields(pid: number): Promise<number[] | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  } catch {
    return null;
  }
}
