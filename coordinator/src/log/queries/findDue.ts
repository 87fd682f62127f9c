import type { Knex } from 'knex';
import { UNFINISHED } from '../../core/transitions.js';
import { TX_TABLE } from '../records.js';

/**
 * Transactions recovery should look at now: phase 2 due for a retry, or a `trying`
 * one past its deadline (its next_retry_at is the deadline). One range scan of the
 * (status, next_retry_at) index: the cost follows the due work, not the log's size.
 */
export async function findDue(db: Knex, now: number, limit: number): Promise<string[]> {
  const rows = await db(TX_TABLE)
    .select('xid')
    .whereIn('status', UNFINISHED as string[])
    .andWhere('next_retry_at', '<=', now)
    .orderBy('next_retry_at', 'asc')
    .limit(limit);
  return rows.map((r: { xid: string }) => r.xid);
}
