import { barrierTimestamp } from '../barrier/dialect.js';
import type { BarrierKey } from '../barrier/insert-barrier-row.js';
import { FmtLockBusyError } from '../errors.js';
import { rowsOf, type FmtSql } from './sql-rows.js';

/** A row to lock: its key (images.ts rowKeyOf), table and primary key text (for people). */
export interface LockEntry {
  rowKey: string;
  table: string;
  pk: (string | null)[];
}

/**
 * Takes the global locks of these rows for the branch, in its local transaction: insert
 * first, in key order (two tries locking the same rows queue instead of deadlocking), and a
 * row already held by this transaction (another branch of it) is taken again as is. A row
 * held by another transaction throws FmtLockBusyError at once: the caller's local
 * transaction rolls back, so no lock of it is left and no row lock is held while waiting.
 */
export async function acquireLocks(db: FmtSql, key: BarrierKey, entries: readonly LockEntry[]): Promise<void> {
  const sorted = [...new Map(entries.map((e) => [e.rowKey, e])).values()].sort((a, b) => (a.rowKey < b.rowKey ? -1 : 1));
  if (sorted.length === 0) return;
  const now = barrierTimestamp(Date.now());
  const values = sorted.flatMap((e) => [e.rowKey, e.table, JSON.stringify(e.pk).slice(0, 1024), key.xid, key.branchId, now]);
  const tuples = sorted.map(() => '(?, ?, ?, ?, ?, ?)').join(', ');
  const insert = `INSERT INTO dtx_fmt_lock (row_key, table_name, pk, xid, branch_id, created_at) VALUES ${tuples}`;
  if (db.dialect === 'postgres') {
    const rows = await rowsOf<{ row_key: string; xid: string }>(db, `${insert} ON CONFLICT (row_key) DO UPDATE SET xid = dtx_fmt_lock.xid RETURNING row_key, xid`, values);
    const held = rows.find((r) => r.xid !== key.xid);
    if (held) throw busy(sorted, held);
    return;
  }
  // A duplicate held by another xid reports itself through LAST_INSERT_ID(1) as the insertId
  // (the table has no AUTO_INCREMENT column, so an insert alone reports 0); the assignment keeps xid.
  const res = (await db.raw(`${insert} ON DUPLICATE KEY UPDATE xid = IF(IF(xid <> ?, LAST_INSERT_ID(1), 0) >= 0, xid, xid)`, [...values, key.xid])) as [{ insertId: number }];
  if (Number(res[0].insertId) === 0) return;
  const held = await heldByOthers(db, key.xid, sorted.map((e) => e.rowKey), false);
  if (held) throw busy(sorted, held);
}

function busy(entries: readonly LockEntry[], held: { row_key: string; xid: string }): FmtLockBusyError {
  const e = entries.find((x) => x.rowKey === held.row_key)!;
  return new FmtLockBusyError(e.table, e.pk, held.xid);
}

/**
 * The first of these rows held by a transaction other than `xid` (null: any holder).
 * `share` reads with a shared lock: the newest committed rows, and an FMT try that is
 * inserting one of them is waited for.
 */
export async function heldByOthers(db: FmtSql, xid: string | null, rowKeys: readonly string[], share: boolean): Promise<{ row_key: string; xid: string } | undefined> {
  if (rowKeys.length === 0) return undefined;
  const lock = share ? (db.dialect === 'postgres' ? ' FOR SHARE' : ' LOCK IN SHARE MODE') : '';
  const rows = await rowsOf<{ row_key: string; xid: string }>(db, `SELECT row_key, xid FROM dtx_fmt_lock WHERE row_key IN (${rowKeys.map(() => '?').join(', ')})${lock}`, rowKeys);
  return rows.find((r) => xid === null || r.xid !== xid);
}

/** Releases the transaction's locks but those of rows in `keep` (still in another branch's undo records). */
export async function releaseLocks(db: FmtSql, xid: string, keep: ReadonlySet<string>): Promise<void> {
  const kept = [...keep];
  const notIn = kept.length === 0 ? '' : ` AND row_key NOT IN (${kept.map(() => '?').join(', ')})`;
  await db.raw(`DELETE FROM dtx_fmt_lock WHERE xid = ?${notIn}`, [xid, ...kept]);
}
