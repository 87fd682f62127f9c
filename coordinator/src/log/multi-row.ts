import type { Knex } from 'knex';

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
 * branch_id = ? THEN ? … ELSE NULL END` over `rows` (the rows the statement updates).
 */
export function valueByBranch<R extends { xid: string; branchId: string }>(trx: Knex.Transaction, rows: readonly R[], value: (row: R) => string | null): Knex.Raw {
  return trx.raw(`CASE ${rows.map(() => 'WHEN xid = ? AND branch_id = ? THEN ?').join(' ')} ELSE NULL END`, rows.flatMap((r) => [r.xid, r.branchId, value(r)]));
}
