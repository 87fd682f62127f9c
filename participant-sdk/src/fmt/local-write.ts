import { FmtLockBusyError, FmtUnsupportedStatementError } from '../errors.js';
import { heldByOthers } from './global-locks.js';
import { imageRowsOf, imageSelectList, pkOf, pkPositions, rowKeyOf, type ImageRow } from './images.js';
import { probeSelect, type WriteBuilder } from './probe-select.js';
import { isKeyValue, readByValues } from './record-write.js';
import { rowsOf, type FmtSql } from './sql-rows.js';
import { tableMetaOf } from './table-meta.js';

/**
 * The rows a builder statement selects or will write, by primary key, locked: the same
 * builder as a SELECT of the key columns (FOR UPDATE unless it already locks). Then none of
 * them may be held by a global lock of another transaction (`xid` null: of any).
 */
export async function checkRowsFree(db: FmtSql, xid: string | null, b: WriteBuilder, table: string, describe: string): Promise<void> {
  const meta = await tableMetaOf(db, table);
  if (meta.pk.length === 0) {
    if (b._method === 'select' || b._method === 'first') return;
    throw new FmtUnsupportedStatementError(describe, `table ${table} has no primary key, so its rows cannot be checked against global locks`);
  }
  const keyCols = meta.pk.map((n) => meta.columns.find((c) => c.n === n)!);
  const { sql, bindings } = probeSelect(b, imageSelectList(db, keyCols));
  const rows = imageRowsOf(await rowsOf<Record<string, unknown>>(db, sql, bindings), keyCols.length);
  await requireFree(db, xid, table, keyCols, rows);
}

/** After a local insert whose keys it gave: none of those rows may be held (a row an undecided branch deleted). */
export async function checkInsertedFree(db: FmtSql, b: WriteBuilder, table: string): Promise<void> {
  const meta = await tableMetaOf(db, table);
  const rows = ([] as Record<string, unknown>[]).concat(b._single.insert as Record<string, unknown>);
  if (meta.pk.length === 0 || !rows.every((r) => meta.pk.every((c) => isKeyValue(r[c])))) return;
  const found = await readByValues(db, meta, rows.map((r) => meta.pk.map((c) => r[c])));
  const keyCols = meta.pk.map((n) => meta.columns.find((c) => c.n === n)!);
  const positions = pkPositions(meta.columns, meta.pk);
  await requireFree(db, null, table, keyCols, found.map((r) => pkOf(r, positions)));
}

async function requireFree(db: FmtSql, xid: string | null, table: string, keyCols: Parameters<typeof pkPositions>[0], rows: ImageRow[]): Promise<void> {
  const positions = pkPositions(keyCols, keyCols.map((c) => c.n));
  const keys = rows.map((r) => rowKeyOf(table, keyCols, positions, pkOf(r, positions)));
  const held = await heldByOthers(db, xid, keys, true);
  if (held) throw new FmtLockBusyError(table, pkOf(rows[keys.indexOf(held.row_key)]!, positions), held.xid);
}
