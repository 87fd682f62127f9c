import type { DirtyRow } from '../errors.js';
import { pkOf, pkPositions, type ImageRow } from './images.js';
import type { UndoRecord } from './undo-record.js';

/** One row's undo: what to write, or nothing. */
export type UndoStep =
  | { kind: 'update'; pk: (string | null)[]; set: { col: number; value: string | null }[] }
  | { kind: 'delete'; pk: (string | null)[] }
  | { kind: 'insert'; row: ImageRow };

/**
 * What undoing one record takes, given the rows as they are now (pure). Each row the
 * write touched must be as the try left it (its after image) to be put back, or already
 * as it was before (skipped). Anything else is dirty, unless an operator resolved the
 * record: `restore-before` writes the before image whatever is there, `keep-current`
 * leaves the row. The first dirty row is named (table, key, column, expected, current).
 */
export function planUndo(record: UndoRecord, current: readonly ImageRow[]): { steps: UndoStep[] } | { dirty: DirtyRow } {
  const { cols, pk, before, after } = record.image;
  const positions = pkPositions(cols, pk);
  const keyOf = (r: ImageRow) => JSON.stringify(pkOf(r, positions));
  const now = new Map(current.map((r) => [keyOf(r), r]));
  const was = new Map(before.map((r) => [keyOf(r), r]));
  const left = new Map(after.map((r) => [keyOf(r), r]));
  const steps: UndoStep[] = [];
  for (const key of new Set([...was.keys(), ...left.keys()])) {
    const b = was.get(key);
    const a = left.get(key);
    const c = now.get(key);
    const pkValues = pkOf((b ?? a)!, positions);
    if (same(c, b)) continue;
    if (!same(c, a)) {
      if (record.resolution === 'keep-current') continue;
      if (record.resolution !== 'restore-before') return { dirty: dirtyRow(record, pkValues, a, c) };
    }
    // The row is the try's after image (or an operator chose to restore): put the before image back.
    if (!b) steps.push({ kind: 'delete', pk: pkValues });
    else if (!c) steps.push({ kind: 'insert', row: b });
    else steps.push({ kind: 'update', pk: pkValues, set: b.flatMap((value, col) => (positions.includes(col) || value === c[col] ? [] : [{ col, value }])) });
  }
  return { steps };
}

function same(x: ImageRow | undefined, y: ImageRow | undefined): boolean {
  if (!x || !y) return x === y;
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function dirtyRow(record: UndoRecord, pk: (string | null)[], expected: ImageRow | undefined, current: ImageRow | undefined): DirtyRow {
  const base = { table: record.table, pk, seq: record.seq };
  if (!expected || !current) return { ...base, column: '(row)', expected: expected ? 'present' : 'absent', current: current ? 'present' : 'absent' };
  const col = expected.findIndex((v, i) => v !== current[i]);
  return { ...base, column: record.image.cols[col]!.n, expected: expected[col] ?? null, current: current[col] ?? null };
}
