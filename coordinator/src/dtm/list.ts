import type { TxMode } from '@dtx/protocol';
import { listTransactions } from '../log/queries/listTransactions.js';
import { readTx } from '../log/queries/readTransaction.js';
import type { TransactionLog } from '../log/transaction-log.js';
import { decodeCursor, encodeCursor } from '../service/coordinator-service.js';
import { failure } from './answers.js';
import { isDtmTransType } from './dialect.js';
import { dtmTransaction, transTypeOf } from './query-view.js';
import { dtxStatusesOf } from './status.js';

/**
 * DTM's `all`: newest first, `limit` (default 100) a page, `next_position` the opaque
 * position of the next page or "" after the last. Filters: `gid`, `status`, `transType`,
 * `createTimeStart`/`createTimeEnd` (epoch ms, the end excluded).
 */
export async function listDtm(log: TransactionLog, q: Record<string, string | undefined>): Promise<{ transactions: Record<string, unknown>[]; next_position: string }> {
  if (q.gid) {
    const tx = await log.read((db) => readTx(db, q.gid!));
    return { transactions: tx ? [dtmTransaction(tx)] : [], next_position: '' };
  }
  const limit = q.limit === undefined || q.limit === '' ? 100 : Number(q.limit);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 500) throw failure('limit must be 1–500', 'INVALID_REQUEST');
  const statuses = q.status ? dtxStatusesOf(q.status) : null;
  if (q.status && !statuses) throw failure(`status ${q.status} is not one of DTM's`, 'INVALID_REQUEST');
  if (q.transType && !isDtmTransType(q.transType)) throw failure(`transType ${q.transType} is not one of tcc, xa, saga, msg`, 'INVALID_REQUEST');
  const mode: TxMode | undefined = q.transType === 'tcc' || q.transType === 'xa' ? 'tcc' : (q.transType as TxMode | undefined);
  const after = q.position ? decodeCursor(q.position) : undefined;
  const createdFrom = epochMs(q.createTimeStart, 'createTimeStart');
  const createdBefore = epochMs(q.createTimeEnd, 'createTimeEnd');
  const page = await log.read((db) => listTransactions(db, { mode, limit, after, createdFrom, createdBefore, ...(statuses?.length === 1 ? { status: statuses[0] } : {}) }));
  const last = page.items.at(-1);
  const transactions = page.items
    .filter((tx) => !q.transType || transTypeOf(tx) === q.transType)
    .map(dtmTransaction)
    .filter((t) => !q.status || t.status === q.status);
  return { transactions, next_position: page.more && last ? encodeCursor(last) : '' };
}

function epochMs(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw failure(`${name} must be epoch milliseconds`, 'INVALID_REQUEST');
  return n;
}
