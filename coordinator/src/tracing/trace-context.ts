import { formatTraceparent, HEADER_TRACEPARENT, HEADER_TRACESTATE, newSpanId, newTraceId, parseTraceparent } from '@dtx/protocol';
import { context, createTraceState, ROOT_CONTEXT, SpanStatusCode, trace, TraceFlags, type Context, type SpanKind, type Span, type SpanContext } from '@opentelemetry/api';

/** Spans go through @opentelemetry/api: a no-op unless the application registers an SDK. */
export const tracer = trace.getTracer('@dtx/coordinator', '0.2.0');

/** What a transaction keeps of the trace it belongs to (columns trace_parent, trace_state). */
export interface StoredTrace {
  traceParent: string;
  traceState: string | null;
}

/** The OpenTelemetry context of a stored (or received) traceparent; ROOT_CONTEXT without one. */
export function contextOf(traceParent: string | null | undefined, traceState?: string | null): Context {
  const t = parseTraceparent(traceParent);
  if (!t) return ROOT_CONTEXT;
  const sc: SpanContext = { traceId: t.traceId, spanId: t.spanId, traceFlags: t.flags, isRemote: true };
  if (traceState) sc.traceState = createTraceState(traceState);
  return trace.setSpanContext(ROOT_CONTEXT, sc);
}

/**
 * What a transaction begun under `span` stores: the span's own context when an SDK
 * records it (so its callbacks are the begin request's children), else the request's
 * traceparent, else a new trace, so the callbacks of one transaction always share a trace id.
 */
export function traceToStore(span: Span | undefined, received: Context): StoredTrace {
  const own = span?.spanContext();
  const sc = own && trace.isSpanContextValid(own) ? own : trace.getSpanContext(received);
  if (!sc || !trace.isSpanContextValid(sc)) {
    return { traceParent: formatTraceparent({ traceId: newTraceId(), spanId: newSpanId(), flags: TraceFlags.SAMPLED }), traceState: null };
  }
  return { traceParent: formatTraceparent({ traceId: sc.traceId, spanId: sc.spanId, flags: sc.traceFlags }), traceState: sc.traceState?.serialize() || null };
}

/**
 * The trace headers of one callback made under `span` (a child of `parent`): the span's
 * context when an SDK records it, else the parent's trace id with a span id of its own.
 */
export function callbackTraceHeaders(span: Span, parent: Context): Record<string, string> {
  const p = trace.getSpanContext(parent);
  const own = span.spanContext();
  const sc = trace.isSpanContextValid(own) && own.spanId !== p?.spanId ? own : p && trace.isSpanContextValid(p) ? { ...p, spanId: newSpanId() } : null;
  if (!sc) return {};
  const headers: Record<string, string> = { [HEADER_TRACEPARENT]: formatTraceparent({ traceId: sc.traceId, spanId: sc.spanId, flags: sc.traceFlags }) };
  const state = (sc.traceState ?? p?.traceState)?.serialize();
  if (state) headers[HEADER_TRACESTATE] = state;
  return headers;
}

/** Runs `fn` in a span, ended (with its error recorded) when `fn` settles. */
export async function inSpan<T>(name: string, parent: Context, attributes: Record<string, string | number>, kind: SpanKind, fn: (span: Span, ctx: Context) => Promise<T>): Promise<T> {
  const span = tracer.startSpan(name, { attributes, kind }, parent);
  const ctx = trace.setSpan(parent, span);
  try {
    return await context.with(ctx, () => fn(span, ctx));
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw err;
  } finally {
    span.end();
  }
}
