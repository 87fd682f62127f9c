import {
  callbackHeaders,
  classifyAnswer,
  parseRetryAfter,
  type AnswerKind,
  MSG_BRANCH_ID,
  type CallbackBody,
  type CheckBody,
  type Json,
} from '@dtx/protocol';
import { Agent, request } from 'undici';
import { classifyDtmAnswer, dtmWireCall, isOngoing } from '../dtm/branch-call.js';
import type { DtmOptions } from '../dtm/dialect.js';
import { toError } from '../errors.js';

export interface CallRequest {
  url: string;
  /** A branch's callback, or a message's check-back (which names no branch: its headers carry MSG_BRANCH_ID). */
  body: CallbackBody | CheckBody;
  attempt: number;
  timeoutMs: number;
  /** Sent besides the protocol's own (the trace context). */
  headers?: Record<string, string>;
  /** A transaction begun through the DTM-compatible surface: the call is made in DTM's dialect instead (dtm/branch-call.ts). */
  dtm?: DtmOptions | null;
}

export interface CallAnswer {
  kind: AnswerKind;
  /** HTTP status; null for a timeout or connection error. */
  status: number | null;
  /** The JSON body of a 2xx answer (tryResult for a try). */
  result?: Json;
  retryAfterMs: number | null;
  /** `HTTP 503` or `connect ECONNREFUSED 127.0.0.1:4001`, for lastError. */
  error?: string;
}

export interface ParticipantCaller {
  call(req: CallRequest): Promise<CallAnswer>;
  close(): Promise<void>;
}

/**
 * Calls participants over keep-alive connection pools, one per origin (undici's Agent).
 * A call's `timeoutMs` bounds the whole call. Its timer is cleared as soon as the
 * answer is read: AbortSignal.timeout would leave it pending for the full timeout
 * after every call (tens of thousands of timers and signals kept alive under load),
 * and undici's own headers/body timeouts tick every half second or so, too coarse
 * for a 150 ms timeout.
 */
export class HttpParticipantCaller implements ParticipantCaller {
  readonly #agent = new Agent({ keepAliveTimeout: 30_000, connections: 64, pipelining: 1 });

  constructor(private readonly signingSecret?: string) {}

  async call(req: CallRequest): Promise<CallAnswer> {
    // DTM's rule: a branch registered with an empty URL is done without a call
    if (req.dtm && req.url === '') return { kind: 'ok', status: null, retryAfterMs: null };
    const wire = req.dtm ? dtmWireCall(req.dtm, { url: req.url, ...req.body }) : this.#dtxWire(req);
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), req.timeoutMs);
    try {
      const res = await request(wire.url, {
        method: wire.method,
        headers: { ...wire.headers, ...req.headers },
        body: wire.body,
        dispatcher: this.#agent,
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
        signal: abort.signal,
      });
      const text = await res.body.text();
      const kind = req.dtm ? classifyDtmAnswer(req.dtm.trans_type, req.body.phase, res.statusCode, text) : classifyAnswer(req.body.phase, res.statusCode);
      const ongoingMs = req.dtm?.retry_interval && isOngoing(res.statusCode, text) ? req.dtm.retry_interval * 1000 : null;
      const retryAfterMs = ongoingMs ?? parseRetryAfter(res.headers['retry-after']);
      if (kind === 'ok') return { kind, status: res.statusCode, result: parseMaybeJson(text), retryAfterMs: null };
      return { kind, status: res.statusCode, retryAfterMs, error: `HTTP ${res.statusCode}${summary(text)}` };
    } catch (err) {
      const e = toError(err);
      const cause = e.cause ? `: ${toError(e.cause).message}` : '';
      const message = abort.signal.aborted ? `timeout after ${req.timeoutMs} ms` : `${e.message}${cause}`;
      return { kind: req.dtm ? 'retry' : classifyAnswer(req.body.phase, null), status: null, retryAfterMs: null, error: message };
    } finally {
      clearTimeout(timer);
    }
  }

  /** PROTOCOL.md's callback: the JSON body, signed when a secret is set. */
  #dtxWire(req: CallRequest): { method: 'POST'; url: string; body: string; headers: Record<string, string> } {
    const raw = JSON.stringify(req.body);
    const to = { xid: req.body.xid, branchId: branchIdOf(req.body), phase: req.body.phase };
    const signing = this.signingSecret ? { secret: this.signingSecret, url: req.url } : undefined;
    return { method: 'POST', url: req.url, body: raw, headers: { 'content-type': 'application/json', ...callbackHeaders(to, req.attempt, raw, signing) } };
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/** The branch a call is for: a check-back is the message's own (MSG_BRANCH_ID). */
export const branchIdOf = (body: CallbackBody | CheckBody): string => ('branchId' in body ? body.branchId : MSG_BRANCH_ID);

function parseMaybeJson(text: string): Json | undefined {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}

function summary(text: string): string {
  const t = text.trim();
  if (!t) return '';
  try {
    const j = JSON.parse(t) as { error?: { code?: string; message?: string } | string; code?: string; message?: string };
    const e = typeof j.error === 'object' ? j.error : j;
    const s = [e?.code, e?.message ?? (typeof j.error === 'string' ? j.error : undefined)].filter(Boolean).join(' ');
    if (s) return ` ${s.slice(0, 300)}`;
  } catch {
    /* not JSON: fall through */
  }
  return ` ${t.slice(0, 200)}`;
}
