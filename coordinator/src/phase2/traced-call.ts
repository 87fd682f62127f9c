import { SpanKind, SpanStatusCode, type Context } from '@opentelemetry/api';
import type { AttemptRecord } from '../log/attempt-records.js';
import type { DtxLogger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { callbackTraceHeaders, tracer } from '../tracing/trace-context.js';
import { branchIdOf, type CallAnswer, type CallRequest, type ParticipantCaller } from './participant-caller.js';

export interface TracedCallDeps {
  caller: ParticipantCaller;
  now: () => number;
  metrics?: Metrics;
  logger?: DtxLogger;
}

export interface TracedCall {
  answer: CallAnswer;
  /** The call as the attempt history keeps it. */
  record: AttemptRecord;
}

/**
 * One participant call (a driven try, a confirm, a cancel) with what the operator sees
 * of it: a client span under `parent` whose traceparent the call carries, its duration
 * in the histogram, a log line when it fails, and its attempt record for the history.
 */
export async function tracedCall(deps: TracedCallDeps, req: CallRequest, action: string | null, parent: Context): Promise<TracedCall> {
  const { xid, phase } = req.body;
  const branchId = branchIdOf(req.body);
  const span = tracer.startSpan(
    `dtx ${phase} ${action ?? branchId}`,
    { kind: SpanKind.CLIENT, attributes: { 'dtx.xid': xid, 'dtx.branch_id': branchId, 'dtx.phase': phase, 'dtx.attempt': req.attempt, 'http.request.method': 'POST', 'url.full': req.url } },
    parent,
  );
  const at = deps.now();
  const t0 = performance.now();
  const answer = await deps.caller.call({ ...req, headers: { ...req.headers, ...callbackTraceHeaders(span, parent) } });
  const durationMs = performance.now() - t0;
  const ok = answer.kind === 'ok';
  if (answer.status !== null) span.setAttribute('http.response.status_code', answer.status);
  if (!ok) span.setStatus({ code: SpanStatusCode.ERROR, message: answer.error });
  span.end();
  deps.metrics?.callSeconds.observe({ phase, outcome: answer.kind }, durationMs / 1000);
  if (!ok) deps.logger?.warn({ xid, branchId, phase, attempt: req.attempt, httpStatus: answer.status, error: answer.error, url: req.url }, 'participant call failed');
  return { answer, record: { xid, branchId, phase, attempt: req.attempt, at, durationMs, httpStatus: answer.status, ok, error: ok ? null : (answer.error ?? 'failed') } };
}
