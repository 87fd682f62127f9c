import type { Knex } from 'knex';
import { dialectOf, type Dialect } from './database.js';

/**
 * The log's hot statements (begin, decision, finish: a few per transaction, each for a
 * whole batch) as SQL text run through knex.raw. Knex's query builder compiles every
 * statement anew, and under load that was about a tenth of the coordinator's CPU and
 * much of its garbage; the text here is built once per dialect and row count.
 * Identifiers are left unquoted: every table and column of the log is a lower-case name
 * that no dialect reserves (coordinator/sql/<dialect>/*.sql creates them unquoted).
 * `?` placeholders serve all three dialects (knex.raw numbers them `$n` for pg).
 */

/** What the raw statements bind: text, numbers (epoch ms, counts, 0/1 flags), NULL. */
export type Binding = string | number | null;

/** `(?, ?, …)` of `columns` placeholders, `rows` times, comma-separated. */
export function placeholders(rows: number, columns: number): string {
  const row = `(${list(columns)})`;
  return Array.from({ length: rows }, () => row).join(', ');
}

/** `?, ?, …`: `n` placeholders. */
export const list = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/**
 * `(xid, branch_id) IN (…)` over `n` pairs. SQLite takes a row value IN only from a
 * subquery, so there the pairs are a VALUES list (as knex's builder wrote it too).
 */
export function branchPairsIn(dialect: Dialect, n: number): string {
  const pairs = placeholders(n, 2);
  return dialect === 'sqlite' ? `(xid, branch_id) IN (VALUES ${pairs})` : `(xid, branch_id) IN (${pairs})`;
}

/** Texts kept per statement: row counts stop at the statement size (500), so this only bounds unusual mixes. */
const TEXTS_KEPT = 512;

/** A statement's text, built once per key (the dialect and row counts it depends on). */
export function cachedText<K extends (string | number)[]>(build: (...key: K) => string): (...key: K) => string {
  const texts = new Map<string, string>();
  return (...key) => {
    const k = key.join(' ');
    let sql = texts.get(k);
    if (sql === undefined) {
      sql = build(...key);
      if (texts.size < TEXTS_KEPT) texts.set(k, sql);
    }
    return sql;
  };
}

/**
 * Runs an UPDATE, INSERT or DELETE; the rows it affected, as knex's builder returned for
 * an update: mysql2's affectedRows (the connection's FOUND_ROWS flag makes that the rows
 * matched, so a no-op update still counts), pg's rowCount, better-sqlite3's changes.
 */
export async function execute(db: Knex | Knex.Transaction, sql: string, bindings: readonly Binding[]): Promise<number> {
  const dialect = dialectOf(db);
  const result: unknown = await db.raw(sql, bindings as Knex.RawBinding[]);
  if (dialect === 'mysql') return (result as [{ affectedRows: number }])[0].affectedRows;
  if (dialect === 'postgres') return (result as { rowCount: number | null }).rowCount ?? 0;
  return (result as { changes: number }).changes;
}

/** Runs a SELECT; its rows, as the driver gives them (what knex's builder returned). */
export async function select(db: Knex | Knex.Transaction, sql: string, bindings: readonly Binding[]): Promise<Record<string, unknown>[]> {
  const dialect = dialectOf(db);
  const result: unknown = await db.raw(sql, bindings as Knex.RawBinding[]);
  if (dialect === 'mysql') return (result as [Record<string, unknown>[]])[0];
  if (dialect === 'postgres') return (result as { rows: Record<string, unknown>[] }).rows;
  return result as Record<string, unknown>[];
}

/**
 * A multi-row INSERT of `columns` into `table`, its text cached per row count. A value
 * left undefined goes in as NULL (the builder wrote DEFAULT, the same for these nullable
 * columns; the ones with a default are always given).
 */
export function insertInto<C extends string>(table: string, columns: readonly C[]) {
  const text = cachedText((rows: number) => `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${placeholders(rows, columns.length)}`);
  return (trx: Knex.Transaction, rows: readonly Record<C, Binding>[]): Promise<number> => {
    const bindings: Binding[] = [];
    for (const row of rows) for (const c of columns) bindings.push(row[c] ?? null);
    return execute(trx, text(rows.length), bindings);
  };
}
