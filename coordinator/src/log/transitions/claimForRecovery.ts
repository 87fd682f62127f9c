import type { TxStatus } from '@dtx/protocol';
import type { Knex } from 'knex';
import { TX_TABLE } from '../records.js';

/**
 * Takes a due transaction for recovery: moves next_retry_at to the end of a lease,
 * only if it is still due and still in the status the caller saw. Of two sweepers
 * (or workers) that saw it due, one wins; and a decision taken since (which sets
 * its own lease) makes the claim fail, so recovery never drives beside the decider.
 */
export async function claimForRecovery(trx: Knex.Transaction, xid: string, seen: TxStatus, now: number, leaseUntil: number): Promise<boolean> {
  const updated = await trx(TX_TABLE)
    .where({ xid, status: seen })
    .andWhere('next_retry_at', '<=', now)
    .update({ next_retry_at: leaseUntil });
  return updated === 1;
}
