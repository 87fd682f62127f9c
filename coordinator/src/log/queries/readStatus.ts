import type { TxMode, TxStatus } from '@dtx/protocol';
import type { Knex } from 'knex';
import { TxNotFoundError } from '../../errors.js';
import { TX_TABLE } from '../records.js';

/** A transaction's status and reason, read inside a write after its guard did not hold; TX_NOT_FOUND when there is none. */
export async function readStatus(db: Knex, xid: string): Promise<{ status: TxStatus; reason: string | null; mode: TxMode }> {
  const row = (await db(TX_TABLE).where({ xid }).first('status', 'reason', 'tx_mode')) as { status: TxStatus; reason: string | null; tx_mode: TxMode } | undefined;
  if (!row) throw new TxNotFoundError(xid);
  return { status: row.status, reason: row.reason ?? null, mode: row.tx_mode ?? 'tcc' };
}

/** The id of the first branch whose try failed, if any (markTryFailed). */
export async function failedTry(db: Knex, xid: string): Promise<string | null> {
  const row = (await db(TX_TABLE).where({ xid }).first('failed_branch')) as { failed_branch: string | null } | undefined;
  return row?.failed_branch ?? null;
}
