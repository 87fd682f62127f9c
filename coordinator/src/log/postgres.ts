import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { STATEMENT_TIMEOUT_MS } from './answer-within.js';

const INT8_OID = 20;

/**
 * The log's BIGINTs (epoch-ms times, counts) as numbers, for this pool's clients
 * only: pg returns int8 as strings by default, and a global setTypeParser would
 * change every pg client of a process that embeds the coordinator. Epoch ms stay
 * far below 2^53.
 */
const LOG_TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (oid === INT8_OID && format !== 'binary') return Number;
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/** Opens a `postgres://…/db` (or `postgresql://`) log; the database is created if missing. */
export async function openPostgres(url: string, poolMax: number): Promise<Knex> {
  await createPostgresDatabase(url);
  return knexFactory({
    client: 'pg',
    connection: { connectionString: url, types: LOG_TYPES, connectionTimeoutMillis: 5000, keepAlive: true } as Knex.PgConnectionConfig,
    pool: {
      min: 0,
      max: poolMax,
      // A batch is one database transaction of many writes. At REPEATABLE READ a guarded
      // UPDATE that meets a row changed since the batch's snapshot fails with a serialization
      // error, and the batcher retries the whole batch on a fresh snapshot; so a write after a
      // lost guard never reads the past. The statement timeout: STATEMENT_TIMEOUT_MS (answer-within.ts).
      afterCreate: (conn: pg.Client, done: (err: Error | null, conn: unknown) => void) => {
        conn.query(`SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ; SET statement_timeout = ${STATEMENT_TIMEOUT_MS}`).then(
          () => done(null, conn),
          (err: Error) => done(err, conn),
        );
      },
    },
  });
}

/** Connects to the database itself first, so a role that may not create databases works on an existing one. */
async function createPostgresDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!/^[A-Za-z0-9_$-]{1,63}$/.test(name)) throw new Error(`invalid PostgreSQL database name "${name}"`);
  if (await databaseExists(url)) return;
  target.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: target.toString(), connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } catch (err) {
    // another process created it first
    const code = (err as { code?: string }).code;
    if (code !== '42P04' && code !== '23505') throw err;
  } finally {
    await admin.end();
  }
}

async function databaseExists(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === '3D000') return false; // invalid_catalog_name: no such database
    throw err;
  } finally {
    await client.end().catch(() => {});
  }
}
