import type { Knex } from 'knex';
import { barrierDialect } from '../barrier/dialect.js';
import { FmtUnsupportedError } from '../errors.js';
import type { FmtDialect } from './image-columns.js';

/** Runs one raw statement and answers the driver's raw result. */
export type RawRunner = (sql: string, bindings?: readonly unknown[]) => Promise<unknown>;

/** Where FMT's own statements go: inside a try they bypass the statement gate. */
export interface FmtSql {
  dialect: FmtDialect;
  raw: RawRunner;
  /** The knex configuration, shared by a knex and its transactions: the catalog cache's key. */
  cacheKey: object;
}

export function fmtDialectOf(knex: Knex | Knex.Transaction): FmtDialect {
  const d = barrierDialect(knex);
  if (d === 'sqlite') throw new FmtUnsupportedError('FMT needs MySQL, MariaDB or PostgreSQL');
  return d;
}

/** FMT's statements through a plain knex or transaction (outside a try's gate). */
export function fmtSqlOf(db: Knex | Knex.Transaction): FmtSql {
  return { dialect: fmtDialectOf(db), raw: (sql, b = []) => db.raw(sql, b as Knex.RawBinding[]) as unknown as Promise<unknown>, cacheKey: (db.client as { config: object }).config };
}

/** The rows of one raw query, whatever shape the driver answers in. */
export async function rowsOf<T>(db: FmtSql, sql: string, bindings: readonly unknown[] = []): Promise<T[]> {
  const res = await db.raw(sql, bindings);
  return db.dialect === 'postgres' ? (res as { rows: T[] }).rows : (res as [T[]])[0];
}

/** Rows affected by a raw INSERT / UPDATE / DELETE. */
export function affectedOf(dialect: FmtDialect, res: unknown): number {
  return dialect === 'postgres' ? (res as { rowCount: number }).rowCount : (res as [{ affectedRows: number }])[0].affectedRows;
}
