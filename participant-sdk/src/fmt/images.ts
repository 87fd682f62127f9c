import { createHash } from 'node:crypto';
import { keyPart, quoteIdent, selectExpr, valueExpr, type ImageColumn } from './image-columns.js';
import { rowsOf, type FmtSql } from './sql-rows.js';
import type { TableMeta } from './table-meta.js';

/** One row of an image: each column's text in `columns` order (null: SQL NULL). */
export type ImageRow = (string | null)[];

/** The select list of an image, each column aliased by position. */
export function imageSelectList(db: FmtSql, columns: readonly ImageColumn[]): string {
  return columns.map((c, i) => `${selectExpr(db.dialect, c)} AS c${i}`).join(', ');
}

/** Turns rows answered for imageSelectList into image rows. */
export function imageRowsOf(rows: readonly Record<string, unknown>[], width: number): ImageRow[] {
  return rows.map((r) => Array.from({ length: width }, (_, i) => {
    const v = r[`c${i}`];
    return v === null || v === undefined ? null : String(v);
  }));
}

/** The positions of the primary key columns in an image's columns. */
export function pkPositions(columns: readonly ImageColumn[], pk: readonly string[]): number[] {
  return pk.map((name) => columns.findIndex((c) => c.n === name));
}

export function pkOf(row: ImageRow, positions: readonly number[]): (string | null)[] {
  return positions.map((i) => row[i] ?? null);
}

/** `(pk) IN (…)` for these key values, as SQL and bindings. */
export function wherePkIn(db: FmtSql, columns: readonly ImageColumn[], positions: readonly number[], keys: readonly (string | null)[][]): { sql: string; bindings: (string | null)[] } {
  const cols = positions.map((i) => columns[i]!);
  const one = `(${cols.map((c) => valueExpr(db.dialect, c)).join(', ')})`;
  const left = `(${cols.map((c) => quoteIdent(db.dialect, c.n)).join(', ')})`;
  return { sql: `${left} IN (${keys.map(() => one).join(', ')})`, bindings: keys.flat() };
}

/** The current image of the rows with these keys, locked (FOR UPDATE), in no particular order. */
export async function readImageByPk(db: FmtSql, meta: TableMeta, columns: readonly ImageColumn[], keys: readonly (string | null)[][]): Promise<ImageRow[]> {
  if (keys.length === 0) return [];
  const where = wherePkIn(db, columns, pkPositions(columns, meta.pk), keys);
  const sql = `SELECT ${imageSelectList(db, columns)} FROM ${quoteIdent(db.dialect, meta.table)} WHERE ${where.sql} FOR UPDATE`;
  return imageRowsOf(await rowsOf<Record<string, unknown>>(db, sql, where.bindings), columns.length);
}

/**
 * A global lock's key: SHA-256 of [table, primary key texts] (unambiguous for composite
 * keys), from values read back from the database, case-folded where the collation is.
 */
export function rowKeyOf(table: string, columns: readonly ImageColumn[], positions: readonly number[], pk: readonly (string | null)[]): string {
  const parts = positions.map((p, i) => keyPart(columns[p]!, pk[i] ?? null));
  return createHash('sha256').update(JSON.stringify([table, parts])).digest('hex');
}
