import type { BarrierKey } from '../barrier/insert-barrier-row.js';
import { FmtDirtyRollbackError } from '../errors.js';
import { quoteIdent, valueExpr } from './image-columns.js';
import { pkPositions, readImageByPk, wherePkIn } from './images.js';
import type { FmtSql } from './sql-rows.js';
import type { TableMeta } from './table-meta.js';
import type { UndoRecord } from './undo-record.js';
import { planUndo, type UndoStep } from './undo-plan.js';

/**
 * Puts back the before images of one branch's records, newest first, in the cancel's local
 * transaction. A dirty row throws FmtDirtyRollbackError before anything is written... or
 * after earlier records' rows were: either way the caller's transaction rolls back whole.
 */
export async function undoBranch(db: FmtSql, key: BarrierKey, records: readonly UndoRecord[]): Promise<void> {
  const utc = db.dialect === 'mysql' && records.some((r) => r.image.cols.some((c) => c.e === 'epoch'));
  // FROM_UNIXTIME answers in the session's zone: in UTC no DST hour is ambiguous.
  if (utc) await db.raw("SET @dtx_fmt_tz = @@session.time_zone, time_zone = '+00:00'");
  try {
    for (const record of records) {
      const { cols, pk, before, after } = record.image;
      const meta: TableMeta = { table: record.table, columns: cols, pk, generatedKey: false, identityAlways: record.image.identityAlways === true, hasTriggers: false, cascades: false };
      const positions = pkPositions(cols, pk);
      const keys = [...new Map([...before, ...after].map((r) => [JSON.stringify(positions.map((p) => r[p])), positions.map((p) => r[p] ?? null)])).values()];
      const current = await readImageByPk(db, meta, cols, keys);
      const plan = planUndo(record, current);
      if ('dirty' in plan) throw new FmtDirtyRollbackError(key.xid, key.branchId, plan.dirty);
      await applySteps(db, meta, plan.steps);
    }
  } finally {
    if (utc) await db.raw('SET time_zone = @dtx_fmt_tz').catch(() => undefined);
  }
}

async function applySteps(db: FmtSql, meta: TableMeta, steps: readonly UndoStep[]): Promise<void> {
  const cols = meta.columns;
  const positions = pkPositions(cols, meta.pk);
  const table = quoteIdent(db.dialect, meta.table);
  const deletes = steps.flatMap((s) => (s.kind === 'delete' ? [s.pk] : []));
  if (deletes.length > 0) {
    const where = wherePkIn(db, cols, positions, deletes);
    await db.raw(`DELETE FROM ${table} WHERE ${where.sql}`, where.bindings);
  }
  for (const s of steps) {
    if (s.kind !== 'update' || s.set.length === 0) continue;
    const where = wherePkIn(db, cols, positions, [s.pk]);
    const set = s.set.map(({ col }) => `${quoteIdent(db.dialect, cols[col]!.n)} = ${valueExpr(db.dialect, cols[col]!)}`).join(', ');
    await db.raw(`UPDATE ${table} SET ${set} WHERE ${where.sql}`, [...s.set.map((x) => x.value), ...where.bindings]);
  }
  const inserts = steps.flatMap((s) => (s.kind === 'insert' ? [s.row] : []));
  if (inserts.length > 0) {
    const names = cols.map((c) => quoteIdent(db.dialect, c.n)).join(', ');
    const tuple = `(${cols.map((c) => valueExpr(db.dialect, c)).join(', ')})`;
    const overriding = meta.identityAlways ? ' OVERRIDING SYSTEM VALUE' : '';
    await db.raw(`INSERT INTO ${table} (${names})${overriding} VALUES ${inserts.map(() => tuple).join(', ')}`, inserts.flat());
  }
}
