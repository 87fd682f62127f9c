import type { Knex } from 'knex';
import { DECIDED_STATUSES } from '../../core/transitions.js';
import { TX_TABLE } from '../records.js';

/**
 * Operator retry in bulk (the DTM surface's `resetCronTime`): up to `limit` decided,
 * unfinished transactions whose next retry is later than `laterThan` become due now.
 * Answers how many moved and whether more remain.
 */
export async function retryDueLater(trx: Knex.Transaction, o: { laterThan: number; limit: number; now: number }): Promise<{ moved: number; more: boolean }> {
  const rows: { xid: string }[] = await trx(TX_TABLE)
    .select('xid')
    .whereIn('status', DECIDED_STATUSES as string[])
    .andWhere('next_retry_at', '>', o.laterThan)
    .orderBy('next_retry_at', 'asc')
    .limit(o.limit + 1);
  const xids = rows.slice(0, o.limit).map((r) => r.xid);
  if (xids.length === 0) return { moved: 0, more: false };
  const moved = await trx(TX_TABLE)
    .whereIn('xid', xids)
    .whereIn('status', DECIDED_STATUSES as string[])
    .andWhere('next_retry_at', '>', o.laterThan)
    .update({ next_retry_at: o.now, updated_at: o.now });
  return { moved, more: rows.length > o.limit };
}
