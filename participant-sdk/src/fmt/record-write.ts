import type { BarrierKey } from '../barrier/insert-barrier-row.js';
import { FmtRowsMovedError, FmtUnsupportedStatementError } from '../errors.js';
import { acquireLocks, type LockEntry } from './global-locks.js';
import { quoteIdent, valueExpr, type ImageColumn } from './image-columns.js';
import { imageRowsOf, imageSelectList, pkOf, pkPositions, readImageByPk, rowKeyOf, type ImageRow } from './images.js';
import { probeSelect, type WriteBuilder } from './probe-select.js';
import { rowsOf, type FmtSql } from './sql-rows.js';
import { tableMetaOf, type TableMeta } from './table-meta.js';
import type { UndoRecord } from './undo-record.js';

export interface WriteContext {
  db: FmtSql;
  key: BarrierKey;
  seq: number;
  maxRowsPerStatement: number;
  describe: string;
}

/** Runs one managed write with its images and locks; answers what knex would and the undo record. */
export async function recordWrite(ctx: WriteContext, b: WriteBuilder, table: string, run: () => Promise<unknown>): Promise<{ result: unknown; record: UndoRecord }> {
  const meta = await tableMetaOf(ctx.db, table);
  const refuse = (why: string) => new FmtUnsupportedStatementError(ctx.describe, why);
  if (meta.columns.length === 0) throw refuse(`table ${table} is not known to the database`);
  if (meta.pk.length === 0) throw refuse(`table ${table} has no primary key`);
  if (meta.hasTriggers) throw refuse(`table ${table} has triggers, whose writes FMT would not image`);
  if (meta.cascades && b._method !== 'insert') throw refuse(`a foreign key with ON DELETE/UPDATE CASCADE or SET NULL/DEFAULT references ${table}; the rows it changes would not be imaged`);
  const positions = pkPositions(meta.columns, meta.pk);
  const record = (kind: UndoRecord['kind'], before: ImageRow[], after: ImageRow[]): UndoRecord => {
    const rowKeys = [...before, ...after].map((r) => rowKeyOf(table, meta.columns, positions, pkOf(r, positions)));
    const image = { v: 1 as const, cols: meta.columns, pk: meta.pk, before, after, ...(meta.identityAlways ? { identityAlways: true as const } : {}) };
    return { branchId: ctx.key.branchId, seq: ctx.seq, table, kind, image, rowKeys: [...new Set(rowKeys)] };
  };
  const lock = (rows: ImageRow[]) => acquireLocks(ctx.db, ctx.key, rows.map((r): LockEntry => {
    const pk = pkOf(r, positions);
    return { rowKey: rowKeyOf(table, meta.columns, positions, pk), table, pk };
  }));

  if (b._method === 'insert') {
    const { result, after } = await insertWithImage(ctx, b, meta, refuse, run);
    await lock(after);
    return { result, record: record('insert', [], after) };
  }
  if (b._method === 'update') {
    const set = [...Object.keys((b._single.update as object | undefined) ?? {}), ...Object.keys((b._single.counter as object | undefined) ?? {})];
    const pkSet = set.find((c) => meta.pk.includes(c));
    if (pkSet !== undefined) throw refuse(`it updates the primary key column ${pkSet}`);
  }
  const before = await beforeImage(ctx.db, b, meta.columns);
  if (before.length > ctx.maxRowsPerStatement) throw refuse(`it touches ${before.length} rows, more than maxRowsPerStatement (${ctx.maxRowsPerStatement})`);
  await lock(before);
  const result = await run();
  const matched = typeof result === 'number' ? result : Array.isArray(result) ? result.length : Number((result as { rowCount?: number }).rowCount ?? NaN);
  if (matched !== before.length) throw new FmtRowsMovedError(table, before.length, matched);
  if (b._method === 'del') return { result, record: record('delete', before, []) };
  const after = await readImageByPk(ctx.db, meta, meta.columns, before.map((r) => pkOf(r, positions)));
  return { result, record: record('update', before, after) };
}

/** The rows an UPDATE / DELETE will touch, locked: the same builder as a SELECT of the image columns … FOR UPDATE. */
async function beforeImage(db: FmtSql, b: WriteBuilder, columns: readonly ImageColumn[]): Promise<ImageRow[]> {
  const { sql, bindings } = probeSelect(b, imageSelectList(db, columns));
  return imageRowsOf(await rowsOf<Record<string, unknown>>(db, sql, bindings), columns.length);
}

async function insertWithImage(
  ctx: WriteContext,
  b: WriteBuilder,
  meta: TableMeta,
  refuse: (why: string) => Error,
  run: () => Promise<unknown>,
): Promise<{ result: unknown; after: ImageRow[] }> {
  const rows = ([] as Record<string, unknown>[]).concat(b._single.insert as Record<string, unknown>);
  if (rows.length > ctx.maxRowsPerStatement) throw refuse(`it inserts ${rows.length} rows, more than maxRowsPerStatement (${ctx.maxRowsPerStatement})`);
  const given = rows.every((r) => meta.pk.every((c) => isKeyValue(r[c])));
  let keys: unknown[][];
  let result: unknown;
  if (given) {
    result = await run();
    keys = rows.map((r) => meta.pk.map((c) => r[c]));
  } else if (!meta.generatedKey) {
    throw refuse(`the rows do not give the primary key of ${meta.table} as values, and the database does not generate it`);
  } else if (ctx.db.dialect === 'mysql') {
    if (rows.length > 1) throw refuse('a multi-row insert whose AUTO_INCREMENT keys the database assigns (insert one row at a time, or give the keys)');
    result = await run();
    keys = [[String((result as unknown[])[0])]];
  } else {
    const own = b._single.returning;
    b.returning([...new Set([...(Array.isArray(own) ? own : own === undefined ? [] : [own]), ...meta.pk])] as string[]);
    result = await run();
    keys = (result as Record<string, unknown>[]).map((r) => meta.pk.map((c) => r[c]));
  }
  const after = await readByValues(ctx.db, meta, keys);
  if (after.length !== rows.length) throw new FmtRowsMovedError(meta.table, rows.length, after.length);
  return { result, after };
}

/** A value knex binds as it is (not raw SQL, not a subquery). */
export function isKeyValue(v: unknown): boolean {
  return v !== undefined && (typeof v !== 'object' || v === null || Buffer.isBuffer(v) || v instanceof Date);
}

/** The image of rows found by key values as an insert was given them (bound as knex binds them). */
export async function readByValues(db: FmtSql, meta: TableMeta, keys: unknown[][]): Promise<ImageRow[]> {
  const cols = meta.pk.map((name) => meta.columns.find((c) => c.n === name)!);
  const one = `(${cols.map((c) => valueExpr(db.dialect, c)).join(', ')})`;
  const left = `(${cols.map((c) => quoteIdent(db.dialect, c.n)).join(', ')})`;
  const bindings = keys.flatMap((k) => k.map((v, i) => (cols[i]!.e === 'hex' && Buffer.isBuffer(v) ? v.toString('hex') : v)));
  const sql = `SELECT ${imageSelectList(db, meta.columns)} FROM ${quoteIdent(db.dialect, meta.table)} WHERE ${left} IN (${keys.map(() => one).join(', ')})`;
  return imageRowsOf(await rowsOf<Record<string, unknown>>(db, sql, bindings), meta.columns.length);
}
