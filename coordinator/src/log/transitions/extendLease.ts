import type { Knex } from 'knex';
import type { TxStatus } from '@dtx/protocol';
import { TX_TABLE } from '../records.js';

/**
 * A round that may outlast the lease its decision or claim took lengthens it first
 * (never shortens it), so recovery does not drive the transaction beside it
 * (core/round-lease.ts); a message's check-back does the same while it is `trying`.
 * False when the transaction is no longer `status`: another
 * process finished it, and there is nothing to drive.
 */
export async function extendLease(trx: Knex.Transaction, xid: string, status: TxStatus, until: number): Promise<boolean> {
  const updated = await trx(TX_TABLE)
    .where({ xid, status })
    .update({ next_retry_at: trx.raw('CASE WHEN next_retry_at IS NULL OR next_retry_at < ? THEN ? ELSE next_retry_at END', [until, until]) });
  return updated === 1;
}
