import { callbackHeaders, classifyAnswer, parseRetryAfter, type AnswerKind } from '@dtx/protocol';
import { toError } from '../errors.js';
import { inSpan, SpanKind, traceHeaders } from '../tracing/trace-context.js';
import type { JsonHttp } from './http-json.js';

export interface TryCall {
  url: string;
  xid: string;
  branchId: string;
  /** Named in the body (PROTOCOL.md v1.1), so the signed body is good for this action only. */
  action?: string;
  payload: unknown;
  attempt: number;
  timeoutMs: number;
  signingSecret: string | undefined;
}

export type TryAnswer =
  | { kind: 'ok'; result: unknown }
  | { kind: 'rejected'; status: number; code: string | undefined; message: string }
  | { kind: 'retry'; reason: string; retryAfterMs: number | null };

/** Sends one try callback (PROTOCOL.md "Participant callbacks") and reads the answer, in a client span of the caller's trace. */
export function callTry(http: JsonHttp, call: TryCall): Promise<TryAnswer> {
  const attributes = { 'dtx.xid': call.xid, 'dtx.branch_id': call.branchId, 'dtx.phase': 'try', 'dtx.attempt': call.attempt, 'url.full': call.url };
  return inSpan(`dtx try ${call.branchId}`, SpanKind.CLIENT, attributes, () => sendTry(http, call));
}

async function sendTry(http: JsonHttp, call: TryCall): Promise<TryAnswer> {
  const raw = JSON.stringify({ xid: call.xid, branchId: call.branchId, phase: 'try', action: call.action, payload: call.payload });
  const headers = { ...traceHeaders(), ...callbackHeaders({ xid: call.xid, branchId: call.branchId, phase: 'try' }, call.attempt, raw, call.signingSecret === undefined ? undefined : { secret: call.signingSecret, url: call.url }) };
  let answer;
  try {
    answer = await http.send('POST', call.url, { body: raw, headers, timeoutMs: call.timeoutMs });
  } catch (err) {
    return { kind: 'retry', reason: toError(err).message, retryAfterMs: null };
  }
  const kind: AnswerKind = classifyAnswer('try', answer.status);
  if (kind === 'ok') return { kind, result: answer.body };
  const error = (answer.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const message = typeof error?.message === 'string' ? error.message : `HTTP ${answer.status}`;
  if (kind === 'rejected') return { kind, status: answer.status, code: typeof error?.code === 'string' ? error.code : undefined, message };
  return { kind, reason: `HTTP ${answer.status}: ${message}`, retryAfterMs: parseRetryAfter(answer.headers['retry-after']) };
}
