import type { Knex } from 'knex';
import { setTimeout as sleep } from 'node:timers/promises';
import { barrierDialect } from '../barrier/dialect.js';
import type { BarrierKey } from '../barrier/insert-barrier-row.js';
import { pgGidOf, xaFormatIdOf, xaIdOf, xaIdOfGid, xaIdOfRecoverRow, xaIdSql, type XaId } from './xa-id.js';

/**
 * Every SQL statement of XA mode, for each dialect it runs on: MySQL / MariaDB (`XA …`)
 * and PostgreSQL (`PREPARE TRANSACTION`, `COMMIT PREPARED`, `ROLLBACK PREPARED`).
 */
type XaDialect = 'mysql' | 'postgres';

function dialectOf(knex: Knex): XaDialect {
  const d = barrierDialect(knex);
  if (d === 'sqlite') throw new Error('SQLite has no XA transactions');
  return d;
}

/** The rows of one query, whatever shape the driver answers in. */
async function rowsOf<T>(knex: Knex, sql: string, bindings: readonly unknown[] = []): Promise<T[]> {
  const res = (await knex.raw(sql, bindings as Knex.RawBinding[])) as unknown;
  return dialectOf(knex) === 'postgres' ? (res as { rows: T[] }).rows : (res as [T[]])[0];
}

const formatIds = new WeakMap<Knex, Promise<number>>();

/** This database's formatID (xa-id.ts), from its name, asked once per knex instance. */
export function formatIdOf(knex: Knex): Promise<number> {
  let id = formatIds.get(knex);
  if (!id) {
    const sql = dialectOf(knex) === 'postgres' ? 'SELECT current_database() AS db' : 'SELECT DATABASE() AS db';
    id = rowsOf<{ db: string | null }>(knex, sql).then((rows) => xaFormatIdOf(rows[0]?.db ?? ''));
    id.catch(() => formatIds.delete(knex));
    formatIds.set(knex, id);
  }
  return id;
}

/** The XA id of a branch of this database. */
export async function xaIdIn(knex: Knex, key: BarrierKey): Promise<XaId> {
  return xaIdOf(key, await formatIdOf(knex));
}

/** What one try's branch runs on its connection of its own (prepare-xa-branch.ts). */
export interface BranchStatements {
  /** Session setup: a short wait on row locks. */
  setup: string;
  start: string;
  /** Ends the branch prepared. */
  prepare: string[];
  /** Ends it rolled back (each run whatever the one before did). */
  rollback: string[];
}

export function branchStatements(knex: Knex, id: XaId, lockWaitSeconds: number): BranchStatements {
  const seconds = Math.max(1, Math.round(lockWaitSeconds));
  if (dialectOf(knex) === 'postgres') {
    return { setup: `SET lock_timeout = '${seconds}s'`, start: 'BEGIN', prepare: [`PREPARE TRANSACTION '${pgGidOf(id)}'`], rollback: ['ROLLBACK'] };
  }
  const sqlId = xaIdSql(id);
  return {
    setup: `SET SESSION innodb_lock_wait_timeout = ${seconds}`,
    start: `XA START ${sqlId}`,
    prepare: [`XA END ${sqlId}`, `XA PREPARE ${sqlId}`],
    rollback: [`XA END ${sqlId}`, `XA ROLLBACK ${sqlId}`],
  };
}

/**
 * After the prepared branch's connection is closed: waits (a few ms, at most 5 s) until
 * the server has detached the branch from it. MariaDB does so a moment after the client
 * hangs up (XA COMMIT elsewhere answers XAER_NOTA until then); PostgreSQL at PREPARE.
 */
export async function untilBranchDetached(knex: Knex, conn: unknown): Promise<void> {
  const threadId = (conn as { threadId?: number }).threadId;
  if (dialectOf(knex) === 'postgres' || threadId === undefined) return;
  for (const until = Date.now() + 5000; Date.now() < until; await sleep(1)) {
    const rows = await rowsOf(knex, 'SELECT 1 AS present FROM information_schema.PROCESSLIST WHERE ID = ?', [threadId]);
    if (rows.length === 0) return;
  }
}

/** The statements around a local transaction that waits at most `seconds` for a row lock. */
export function shortLockWait(knex: Knex, lockWaitSeconds: number): { set: string; reset?: string } {
  const seconds = Math.max(1, Math.round(lockWaitSeconds));
  // SET LOCAL ends with the transaction; MySQL's session variable goes back with the pooled session.
  if (dialectOf(knex) === 'postgres') return { set: `SET LOCAL lock_timeout = '${seconds}s'` };
  return { set: `SET SESSION innodb_lock_wait_timeout = ${seconds}`, reset: 'SET SESSION innodb_lock_wait_timeout = DEFAULT' };
}

/** MySQL / MariaDB ER_XAER_NOTA: no such prepared branch. */
const XAER_NOTA = 1397;
/** ER_XAER_DUPID: XA START of an id that another session has started or prepared. */
const XAER_DUPID = 1440;
/** PostgreSQL undefined_object: COMMIT / ROLLBACK PREPARED of a gid that is not prepared. */
const PG_NO_GID = '42704';
/** PostgreSQL duplicate_object: PREPARE TRANSACTION of a gid already prepared. */
const PG_GID_TAKEN = '42710';

/** The branch's id is held elsewhere (started or prepared, or its phase 2 running): wait and look again, like a lock conflict. */
export function isXaIdTaken(err: unknown): boolean {
  const { errno, code, message } = (err ?? {}) as { errno?: unknown; code?: unknown; message?: unknown };
  if (errno === XAER_DUPID || code === PG_GID_TAKEN) return true;
  // object_not_in_prerequisite_state: another session is committing or rolling back this prepared transaction.
  return code === '55000' && /prepared transaction .* is busy/.test(String(message));
}

/** XA COMMIT or XA ROLLBACK of a prepared branch, from any connection; false when there is none. */
export async function endXaBranch(knex: Knex, id: XaId, how: 'commit' | 'rollback'): Promise<boolean> {
  const pg = dialectOf(knex) === 'postgres';
  const sql = pg
    ? `${how === 'commit' ? 'COMMIT' : 'ROLLBACK'} PREPARED '${pgGidOf(id)}'`
    : `XA ${how === 'commit' ? 'COMMIT' : 'ROLLBACK'} ${xaIdSql(id)}`;
  try {
    await knex.raw(sql);
    return true;
  } catch (err) {
    const { errno, code } = err as { errno?: unknown; code?: unknown };
    if (pg ? code === PG_NO_GID : errno === XAER_NOTA) return false;
    throw err;
  }
}

/** The prepared branches of this database that the SDK started (its formatID). */
export async function preparedXaIds(knex: Knex): Promise<XaId[]> {
  const formatId = await formatIdOf(knex);
  if (dialectOf(knex) === 'postgres') {
    const rows = await rowsOf<{ gid: string }>(knex, "SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND gid LIKE 'dtx/%'");
    return rows.flatMap((r) => xaIdOfGid(r.gid) ?? []).filter((id) => id.formatId === formatId);
  }
  const [rows] = (await knex.raw('XA RECOVER')) as [{ formatID: number; gtrid_length: number; data: string | Buffer }[]];
  return rows.map(xaIdOfRecoverRow).filter((id) => id.formatId === formatId);
}

/**
 * When the branch's try is prepared: its try row as the prepared branch wrote it (read
 * uncommitted, the only way to see into a prepared branch without waiting on its locks).
 * PostgreSQL never reads uncommitted rows: there the kept result is unknown (null) until confirm.
 */
export async function preparedTryOf(knex: Knex, key: BarrierKey): Promise<{ result: string | null } | undefined> {
  const id = await xaIdIn(knex, key);
  const prepared = (await preparedXaIds(knex)).some((p) => p.gtrid === id.gtrid && p.bqual === id.bqual);
  if (!prepared) return undefined;
  if (dialectOf(knex) === 'postgres') return { result: null };
  return knex.transaction(
    async (trx) => {
      const row = (await trx('dtx_barrier').where({ xid: key.xid, branch_id: key.branchId, op: 'try' }).first('reason', 'result')) as
        | { reason: string; result: string | null }
        | undefined;
      return row?.reason === 'try' ? { result: row.result } : undefined;
    },
    { isolationLevel: 'read uncommitted' },
  );
}
