/** Rows per multi-row statement: at 16 columns a row, well under SQLite's 32,766 bound parameters. */
const ROWS_PER_STATEMENT = 500;

/** Splits the rows of one multi-row write into statements of a bounded size. */
export function inStatements<T>(rows: readonly T[]): T[][] {
  const parts: T[][] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) parts.push(rows.slice(i, i + ROWS_PER_STATEMENT));
  return parts;
}
