import { barrierTimestamp } from '../barrier/dialect.js';
import type { BarrierKey } from '../barrier/insert-barrier-row.js';
import { pkOf, pkPositions, rowKeyOf } from './images.js';
import { affectedOf, rowsOf, type FmtSql } from './sql-rows.js';
import type { DirtyResolution, UndoImage, UndoRecord, WriteKind } from './undo-record.js';

/** The try's undo records, one multi-row insert in its local transaction. */
export async function insertUndoRecords(db: FmtSql, xid: string, records: readonly UndoRecord[]): Promise<void> {
  if (records.length === 0) return;
  const now = barrierTimestamp(Date.now());
  const tuples = records.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ');
  const values = records.flatMap((r) => [xid, r.branchId, r.seq, r.table, r.kind, JSON.stringify(r.image), now]);
  await db.raw(`INSERT INTO dtx_fmt_undo (xid, branch_id, seq, table_name, kind, image, created_at) VALUES ${tuples}`, values);
}

interface UndoRow {
  id: number | string;
  branch_id: string;
  seq: number;
  table_name: string;
  kind: WriteKind;
  image: string;
  resolution: DirtyResolution | null;
}

/**
 * Every undo record of one transaction in this database, newest try first, locked: the
 * confirms and cancels of one transaction's branches queue here, so each sees what the
 * one before it left (which rows other branches still hold).
 */
export async function undoRecordsOfXid(db: FmtSql, xid: string): Promise<UndoRecord[]> {
  const rows = await rowsOf<UndoRow>(db, 'SELECT id, branch_id, seq, table_name, kind, image, resolution FROM dtx_fmt_undo WHERE xid = ? ORDER BY id DESC FOR UPDATE', [xid]);
  return rows.map((r) => {
    const image = JSON.parse(r.image) as UndoImage;
    const positions = pkPositions(image.cols, image.pk);
    const rowKeys = [...image.before, ...image.after].map((row) => rowKeyOf(r.table_name, image.cols, positions, pkOf(row, positions)));
    return { id: Number(r.id), branchId: r.branch_id, seq: Number(r.seq), table: r.table_name, kind: r.kind, image, resolution: r.resolution, rowKeys: [...new Set(rowKeys)] };
  });
}

export async function deleteUndoRecords(db: FmtSql, key: BarrierKey): Promise<void> {
  await db.raw('DELETE FROM dtx_fmt_undo WHERE xid = ? AND branch_id = ?', [key.xid, key.branchId]);
}

/** Records an operator's resolution on a branch's undo records (one, by seq, or all); the count of records marked. */
export async function markResolution(db: FmtSql, key: BarrierKey, resolution: DirtyResolution, seq?: number): Promise<number> {
  const bySeq = seq === undefined ? '' : ' AND seq = ?';
  const res = await db.raw(`UPDATE dtx_fmt_undo SET resolution = ? WHERE xid = ? AND branch_id = ?${bySeq}`, [resolution, key.xid, key.branchId, ...(seq === undefined ? [] : [seq])]);
  return affectedOf(db.dialect, res);
}
