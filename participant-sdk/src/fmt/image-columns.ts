/**
 * How each column's value travels into an image and back, per dialect. Values are read
 * as the database renders them as text (never through a JS number or Date) and written
 * back by casting that text to the column's type, so an undo writes the bytes it read.
 * The dirty check compares those texts, rendered the same way at try and at cancel.
 */
export type FmtDialect = 'mysql' | 'postgres';

/**
 * - text: the server's text of the value (`CAST(c AS CHAR)`, `c::text`), written back with `cast`.
 * - hex: MySQL binary strings, `HEX(c)` / `UNHEX(?)`.
 * - epoch: MySQL TIMESTAMP, `UNIX_TIMESTAMP(c)` (UTC, no session time zone), restored in a `+00:00` session.
 * - utc: PostgreSQL timestamptz, as UTC `timestamp` text, so the session's TimeZone never enters.
 */
export type ImageEncoding = 'text' | 'hex' | 'epoch' | 'utc';

/** One column of an image, as stored in the undo record. */
export interface ImageColumn {
  /** Column name. */
  n: string;
  e: ImageEncoding;
  /** The type the text is cast to when written back or compared (MySQL: only where a plain string would compare as a double). */
  c?: string;
  /** MySQL: a case- (or accent-) insensitive collation, so lock keys fold case. */
  ci?: true;
}

/** What the catalog says about a column (table-meta.ts reads it). */
export interface CatalogColumn {
  name: string;
  /** MySQL DATA_TYPE / PostgreSQL typname of the base type. */
  dataType: string;
  /** MySQL COLUMN_TYPE (`bigint(20) unsigned`, `decimal(38,10)`) / PostgreSQL format_type. */
  fullType: string;
  collation: string | null;
}

const MYSQL_BINARY = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob', 'bit', 'geometry', 'point', 'linestring', 'polygon']);
const MYSQL_INTEGER = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint']);

export function imageColumnOf(dialect: FmtDialect, col: CatalogColumn): ImageColumn {
  const t = col.dataType.toLowerCase();
  if (dialect === 'postgres') return t === 'timestamptz' ? { n: col.name, e: 'utc' } : { n: col.name, e: 'text', c: col.fullType };
  if (MYSQL_BINARY.has(t)) return { n: col.name, e: 'hex' };
  if (t === 'timestamp') return { n: col.name, e: 'epoch' };
  const out: ImageColumn = { n: col.name, e: 'text' };
  if (MYSQL_INTEGER.has(t)) out.c = /unsigned/i.test(col.fullType) ? 'UNSIGNED' : 'SIGNED';
  else if (t === 'decimal' || t === 'numeric') out.c = col.fullType.replace(/\s*unsigned|\s*zerofill/gi, '').toUpperCase();
  if (col.collation && /_(ci|ai_ci)$/i.test(col.collation)) out.ci = true;
  return out;
}

export function quoteIdent(dialect: FmtDialect, name: string): string {
  return dialect === 'mysql' ? `\`${name.replace(/`/g, '``')}\`` : `"${name.replace(/"/g, '""')}"`;
}

/** The select-list expression that renders a column as its image text. */
export function selectExpr(dialect: FmtDialect, col: ImageColumn): string {
  const q = quoteIdent(dialect, col.n);
  switch (col.e) {
    case 'hex':
      return `HEX(${q})`;
    case 'epoch':
      return `CAST(UNIX_TIMESTAMP(${q}) AS CHAR)`;
    case 'utc':
      return `(${q} AT TIME ZONE 'UTC')::text`;
    case 'text':
      return dialect === 'mysql' ? `CAST(${q} AS CHAR)` : `${q}::text`;
  }
}

/** The expression that turns one bound image text (`?`) back into the column's value. */
export function valueExpr(dialect: FmtDialect, col: ImageColumn): string {
  switch (col.e) {
    case 'hex':
      return 'UNHEX(?)';
    case 'epoch':
      // DECIMAL keeps the microseconds a double would round.
      return 'FROM_UNIXTIME(CAST(? AS DECIMAL(20,6)))';
    case 'utc':
      return "(CAST(? AS timestamp) AT TIME ZONE 'UTC')";
    case 'text':
      return col.c ? `CAST(? AS ${col.c})` : '?';
  }
}

/** A value as a lock key part: folded where the column's collation makes `a` and `A` one row. */
export function keyPart(col: ImageColumn, value: string | null): string | null {
  if (value === null || !col.ci) return value;
  return value.toLowerCase().replace(/ +$/, '');
}
