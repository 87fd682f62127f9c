import type { Knex } from 'knex';
import { UNFINISHED } from '../../core/transitions.js';
import { TX_TABLE } from '../records.js';

export interface DueWork {
  xid: string;
  /** The next_retry_at that made it due (the workers make it part of the job id, so a new due time is a new job). */
  dueAt: number;
}

/**
 * The query behind findDue, also for the benchmark's EXPLAIN. One range scan of the
 * (status, next_retry_at) index: the cost follows the due work, not the log's size.
 */
export function dueQuery(db: Knex, now: number, limit: number): Knex.QueryBuilder {
  return db(TX_TABLE)
    .select('xid', 'next_retry_at')
    .whereIn('status', UNFINISHED as string[])
    .andWhere('next_retry_at', '<=', now)
    .orderBy('next_retry_at', 'asc')
    .limit(limit);
}

/**
 * Transactions recovery should look at now, earliest first: phase 2 due for a retry,
 * or a `trying` one past its deadline (its next_retry_at is the deadline).
 */
export async function findDue(db: Knex, now: number, limit: number): Promise<DueWork[]> {
  const rows: { xid: string; next_retry_at: number | string }[] = await dueQuery(db, now, limit);
  return rows.map((r) => ({ xid: r.xid, dueAt: Number(r.next_retry_at) }));
}
