import type { Knex } from 'knex';
import { UNFINISHED } from '../../core/transitions.js';
import { TX_TABLE } from '../../log/records.js';

export interface DueWork {
  xid: string;
  /** The next_retry_at that made it due: part of the job id, so a new due time is a new job. */
  dueAt: number;
}

/**
 * findDue (log/queries/findDue.ts) with the due time of each transaction: the same
 * range scan of the (status, next_retry_at) index. Belongs beside findDue; kept
 * here until the log's owner folds it in.
 */
export async function findDueWork(db: Knex, now: number, limit: number): Promise<DueWork[]> {
  const rows = await db(TX_TABLE)
    .select('xid', 'next_retry_at')
    .whereIn('status', UNFINISHED as string[])
    .andWhere('next_retry_at', '<=', now)
    .orderBy('next_retry_at', 'asc')
    .limit(limit);
  return rows.map((r: { xid: string; next_retry_at: number | string }) => ({ xid: r.xid, dueAt: Number(r.next_retry_at) }));
}
