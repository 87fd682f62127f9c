import type { Knex } from 'knex';
import { DECIDED_STATUSES } from '../../core/transitions.js';
import { TX_TABLE } from '../records.js';

/** Operator retry: make a decided, unfinished transaction due now. */
export async function requestRetry(trx: Knex.Transaction, xid: string, now: number): Promise<boolean> {
  const updated = await trx(TX_TABLE)
    .where({ xid })
    .whereIn('status', DECIDED_STATUSES)
    .update({ next_retry_at: now, updated_at: now });
  return updated === 1;
}
