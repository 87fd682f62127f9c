import type { TxMode, TxStatus } from '@dtx/protocol';
import type { Knex } from 'knex';
import { TX_TABLE, txFromRow, type TxRecord } from '../records.js';

export interface ListFilter {
  status?: TxStatus;
  mode?: TxMode;
  stuck?: boolean;
  limit: number;
  /** Created at or after / before this epoch ms. */
  createdFrom?: number;
  createdBefore?: number;
  /** Continue after this (createdAt, xid), newest first. */
  after?: { createdAt: number; xid: string };
}

/** Newest first, keyset-paginated on (created_at, xid) so a page costs the same deep in the log. */
export async function listTransactions(db: Knex, f: ListFilter): Promise<{ items: TxRecord[]; more: boolean }> {
  const q = db(TX_TABLE).select('*');
  if (f.status) q.where('status', f.status);
  if (f.mode) q.where('tx_mode', f.mode);
  if (f.stuck !== undefined) q.where('stuck', f.stuck ? 1 : 0);
  if (f.createdFrom !== undefined) q.where('created_at', '>=', f.createdFrom);
  if (f.createdBefore !== undefined) q.where('created_at', '<', f.createdBefore);
  if (f.after) {
    const { createdAt, xid } = f.after;
    q.where((w) => w.where('created_at', '<', createdAt).orWhere((w2) => w2.where('created_at', createdAt).andWhere('xid', '<', xid)));
  }
  const rows = await q.orderBy([{ column: 'created_at', order: 'desc' }, { column: 'xid', order: 'desc' }]).limit(f.limit + 1);
  return { items: rows.slice(0, f.limit).map(txFromRow), more: rows.length > f.limit };
}
