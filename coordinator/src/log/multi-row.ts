import type { Binding } from './raw-statements.js';

/** Rows per multi-row statement: at 16 columns a row, well under SQLite's 32,766 bound parameters. */
const ROWS_PER_STATEMENT = 500;

/** Splits the rows of one multi-row write into statements of a bounded size. */
export function inStatements<T>(rows: readonly T[]): T[][] {
  const parts: T[][] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) parts.push(rows.slice(i, i + ROWS_PER_STATEMENT));
  return parts;
}

/**
 * A column's new value per branch in one multi-row UPDATE: `CASE WHEN xid = ? AND
 * branch_id = ? THEN ? … ELSE NULL END` over `rows` branches (the rows the statement updates).
 */
export const caseByBranch = (rows: number): string => `CASE ${Array.from({ length: rows }, () => 'WHEN xid = ? AND branch_id = ? THEN ?').join(' ')} ELSE NULL END`;

/** caseByBranch's bindings: each row's xid, branch and value. */
export function caseBindings<R extends { xid: string; branchId: string }>(rows: readonly R[], value: (row: R) => string | null): Binding[] {
  return rows.flatMap((r) => [r.xid, r.branchId, value(r)]);
}
