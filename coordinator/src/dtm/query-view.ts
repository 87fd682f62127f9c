import type { AttemptRecord } from '../log/attempt-records.js';
import type { BranchRecord, TxRecord } from '../log/records.js';
import { parseJson } from '../log/records.js';
import { dtmOp } from './branch-call.js';
import { parseDtmOptions, type DtmTransType } from './dialect.js';
import { dtmStatus } from './status.js';

const iso = (ms: number): string => new Date(ms).toISOString();

/** DTM's trans_type of any transaction: its own for a DTM-begun one, its mode for one begun through /v1. */
export const transTypeOf = (tx: TxRecord): DtmTransType => parseDtmOptions(tx.dtmJson)?.trans_type ?? tx.mode;

/**
 * A transaction as DTM's `query` and `all` show it (empty strings and null times left
 * out), with DTX's `stuck`, `attempts` and `last_error` besides, so an operator on DTM's
 * tools sees a transaction that keeps failing. `id` is its creation time in ms (DTX has no row id).
 */
export function dtmTransaction(tx: TxRecord): Record<string, unknown> {
  const transType = transTypeOf(tx);
  const status = dtmStatus(transType, tx.status);
  const o = parseDtmOptions(tx.dtmJson);
  const row: Record<string, unknown> = {
    id: tx.createdAt,
    create_time: iso(tx.createdAt),
    update_time: iso(tx.updatedAt),
    gid: tx.xid,
    trans_type: transType,
    status,
    protocol: 'http',
    concurrent: o?.concurrent ?? false,
    stuck: tx.stuck,
    attempts: tx.attempts,
  };
  if (o !== null) row.options = JSON.stringify(o);
  if (o?.custom_data) row.custom_data = o.custom_data;
  if (tx.checkUrl !== null) row.query_prepared = tx.checkUrl;
  if (tx.reason !== null && (status === 'aborting' || status === 'failed')) row.rollback_reason = tx.reason;
  if (tx.finishedAt !== null) row[status === 'succeed' ? 'finish_time' : 'rollback_time'] = iso(tx.finishedAt);
  if (tx.nextRetryAt !== null && tx.finishedAt === null) row.next_cron_time = iso(tx.nextRetryAt);
  if (tx.lastError !== null) row.last_error = tx.lastError;
  return row;
}

type RowStatus = 'prepared' | 'succeed' | 'failed';

/**
 * DTM's rows per branch, in registration order: TCC `[cancel, confirm]`, XA
 * `[rollback, commit]`, saga `[compensate, action]`, a message's step `[action]` alone.
 * `bin_data` is the payload's bytes in base64. A compensated saga step's action row says
 * how its action ended by its last call.
 */
export function dtmBranches(tx: TxRecord, branches: readonly BranchRecord[], attempts: readonly AttemptRecord[]): Record<string, unknown>[] {
  const transType = transTypeOf(tx);
  const rows: Record<string, unknown>[] = [];
  for (const b of [...branches].sort((x, y) => x.seq - y.seq)) {
    const payload = parseJson(b.payloadJson);
    const raw = payload === undefined ? '' : typeof payload === 'string' ? payload : JSON.stringify(payload);
    const [undo, doIt] = rowStatuses(transType, b, attempts);
    const saga = transType === 'saga';
    const pair: [string, string, RowStatus][] =
      transType === 'msg'
        ? [['action', b.confirmUrl, doIt]]
        : [
            [saga ? 'compensate' : dtmOp(transType, 'cancel'), b.cancelUrl, undo],
            [saga ? 'action' : dtmOp(transType, 'confirm'), saga ? (b.tryUrl ?? b.confirmUrl) : b.confirmUrl, doIt],
          ];
    pair.forEach(([op, url, status], i) => {
      const row: Record<string, unknown> = {
        id: rows.length + 1,
        create_time: iso(b.createdAt),
        update_time: iso(b.updatedAt),
        gid: tx.xid,
        url,
        branch_id: b.branchId,
        op,
        status,
      };
      if (raw !== '') row.bin_data = Buffer.from(raw).toString('base64');
      if (status !== 'prepared') row.finish_time = iso(b.updatedAt);
      rows.push(row);
    });
  }
  return rows;
}

function rowStatuses(transType: DtmTransType, b: BranchRecord, attempts: readonly AttemptRecord[]): [RowStatus, RowStatus] {
  switch (b.status) {
    case 'confirmed':
      return ['prepared', 'succeed'];
    case 'cancelled':
      return ['succeed', 'prepared'];
    case 'done':
    case 'delivered':
      return ['prepared', 'succeed'];
    case 'failed':
      return ['prepared', 'failed'];
    case 'compensated':
      return ['succeed', transType === 'saga' ? actionEnded(b.branchId, attempts) : 'prepared'];
    default:
      return ['prepared', 'prepared'];
  }
}

function actionEnded(branchId: string, attempts: readonly AttemptRecord[]): RowStatus {
  const last = attempts.filter((a) => a.branchId === branchId && (a.phase as string) === 'action').at(-1);
  if (!last) return 'prepared';
  if (last.ok) return 'succeed';
  return last.httpStatus === 409 || last.httpStatus === 200 ? 'failed' : 'prepared';
}
