import type { AnswerKind, CallPhase, Json } from '@dtx/protocol';
import type { DtmOptions, DtmTransType } from './dialect.js';

/** A participant call in DTM's dialect, as sent on the wire. */
export interface DtmWireCall {
  method: 'GET' | 'POST';
  url: string;
  /** The branch's payload bytes as the client gave them; none for a GET. */
  body: string | undefined;
  headers: Record<string, string>;
}

/** DTM's op name for a DTX phase: the names DTM's client-side barrier keys on (a message's check-back is `msg`). */
export function dtmOp(transType: DtmTransType, phase: CallPhase): string {
  if (phase === 'check') return 'msg';
  if (transType === 'xa') return phase === 'confirm' ? 'commit' : phase === 'cancel' ? 'rollback' : phase;
  return phase;
}

/** The branch id DTM gives a message's check-back (its producer's barrier row is `(gid, "00", "msg")`). */
export const DTM_CHECK_BRANCH_ID = '00';

/**
 * DTM's branch-call rule: the registered URL with `gid`, `trans_type`, `branch_id` and `op`
 * added to its query; POST with the raw payload when there is one (always for XA), else GET;
 * `Content-type: application/json` and the transaction's `branch_headers`. A message's
 * check-back is a GET of `query_prepared` as branch `00`, op `msg`.
 */
export function dtmWireCall(o: DtmOptions, c: { url: string; xid: string; branchId?: string; phase: CallPhase; payload?: Json | undefined }): DtmWireCall {
  const u = new URL(c.url);
  u.searchParams.set('gid', c.xid);
  u.searchParams.set('trans_type', o.trans_type);
  u.searchParams.set('branch_id', c.phase === 'check' ? DTM_CHECK_BRANCH_ID : (c.branchId ?? ''));
  u.searchParams.set('op', dtmOp(o.trans_type, c.phase));
  // a DTM branch's payload is logged as a JSON string holding the client's bytes (dtm/trans-body.ts)
  const raw = c.payload === undefined || c.payload === null ? '' : typeof c.payload === 'string' ? c.payload : JSON.stringify(c.payload);
  const post = raw !== '' || o.trans_type === 'xa';
  return {
    method: post ? 'POST' : 'GET',
    url: u.toString(),
    body: post ? raw : undefined,
    headers: { 'content-type': 'application/json', ...(o.branch_headers ?? {}) },
  };
}

/**
 * A DTM participant's answer, status first: 409 failure, 425 ongoing, 200 success unless
 * its JSON body's `dtm_result` (participants older than DTM 1.10) says FAILURE or ONGOING;
 * anything else is an error, retried. A failure is final only for a saga action and a
 * message's check-back; confirm, cancel, compensate and a message's delivery retry it, as DTM does.
 */
export function classifyDtmAnswer(transType: DtmTransType, phase: CallPhase, status: number | null, text: string): AnswerKind {
  const result = status === 200 ? dtmResultOf(text) : undefined;
  const failure = status === 409 || result === 'FAILURE';
  if (failure) return (transType === 'saga' && phase === 'action') || phase === 'check' ? 'rejected' : 'retry';
  if (status === 200 && result !== 'ONGOING') return 'ok';
  return 'retry';
}

function dtmResultOf(text: string): unknown {
  try {
    const j = JSON.parse(text) as unknown;
    return j !== null && typeof j === 'object' ? (j as { dtm_result?: unknown }).dtm_result : undefined;
  } catch {
    return undefined;
  }
}

/** An ONGOING answer (425, or `dtm_result`) is asked again after the transaction's `retry_interval`. */
export function isOngoing(status: number | null, text: string): boolean {
  return status === 425 || (status === 200 && dtmResultOf(text) === 'ONGOING');
}
