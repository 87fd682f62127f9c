import type { Knex } from 'knex';
import { barrierTimestamp } from '../barrier/dialect.js';
import { affectedOf, fmtSqlOf } from './sql-rows.js';

export interface PruneFmtOptions {
  /** Only rows older than this are looked at, so no try still in flight is touched. @default 3600000 */
  olderThanMs?: number;
  /** Rows per DELETE. @default 1000 */
  batchSize?: number;
  /** @default Date.now() */
  now?: number;
}

/**
 * A safety net beside confirm and cancel, which delete a branch's undo records and locks in
 * their own transaction: deletes undo records of branches whose barrier shows a confirm or
 * a cancel, and locks of transactions with no undo record left, in bounded batches.
 * Answers how many rows went. Undecided branches keep theirs: those are resolved by
 * phase 2 or the stranded-branch check, never by age.
 */
export async function pruneFmt(knex: Knex, options: PruneFmtOptions = {}): Promise<number> {
  const { olderThanMs = 3_600_000, batchSize = 1000, now = Date.now() } = options;
  const db = fmtSqlOf(knex);
  const before = barrierTimestamp(now - olderThanMs);
  const finished = `EXISTS (SELECT 1 FROM dtx_barrier b WHERE b.xid = u.xid AND b.branch_id = u.branch_id AND b.op IN ('confirm', 'cancel'))`;
  const noUndo = 'NOT EXISTS (SELECT 1 FROM dtx_fmt_undo u WHERE u.xid = l.xid)';
  let total = 0;
  for (const [table, alias, where] of [
    ['dtx_fmt_undo', 'u', finished],
    ['dtx_fmt_lock', 'l', noUndo],
  ] as const) {
    for (;;) {
      // MySQL cannot DELETE … LIMIT from a table its subquery reads: pick the ids first.
      const idCol = table === 'dtx_fmt_undo' ? 'id' : 'row_key';
      const pick = `SELECT ${idCol} FROM (SELECT ${alias}.${idCol} FROM ${table} ${alias} WHERE ${alias}.created_at < ? AND ${where} LIMIT ${Number(batchSize)}) picked`;
      const n = affectedOf(db.dialect, await db.raw(`DELETE FROM ${table} WHERE ${idCol} IN (${pick})`, [before]));
      total += n;
      if (n < batchSize) break;
    }
  }
  return total;
}
