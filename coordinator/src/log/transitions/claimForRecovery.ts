import type { Knex } from 'knex';
import { UNFINISHED } from '../../core/transitions.js';
import { TX_TABLE } from '../records.js';

/**
 * Takes a due transaction for recovery: moves next_retry_at to the end of a lease,
 * only if it is still due. Of two sweepers (or workers) that saw it due, one wins.
 */
export async function claimForRecovery(trx: Knex.Transaction, xid: string, now: number, leaseUntil: number): Promise<boolean> {
  const updated = await trx(TX_TABLE)
    .where({ xid })
    .whereIn('status', UNFINISHED as string[])
    .andWhere('next_retry_at', '<=', now)
    .update({ next_retry_at: leaseUntil });
  return updated === 1;
}
