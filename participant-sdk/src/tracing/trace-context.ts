import { formatTraceparent, HEADER_TRACEPARENT, HEADER_TRACESTATE, parseTraceparent } from '@dtx/protocol';
import { context, createTraceState, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';

/** The SDK's spans go through @opentelemetry/api: a no-op unless the application registers an OpenTelemetry SDK. */
export const tracer = trace.getTracer('@dtx/participant-sdk', '0.2.0');

/** W3C trace headers of `ctx` (the active context by default), or none when it holds no valid span. */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> {
  const sc = trace.getSpanContext(ctx);
  if (!sc || !trace.isSpanContextValid(sc)) return {};
  const headers: Record<string, string> = { [HEADER_TRACEPARENT]: formatTraceparent({ traceId: sc.traceId, spanId: sc.spanId, flags: sc.traceFlags }) };
  const state = sc.traceState?.serialize();
  if (state) headers[HEADER_TRACESTATE] = state;
  return headers;
}

/** The context a callback's `traceparent` (sent by the coordinator or an initiator) continues; the global propagator's when it knows more. */
export function contextOfHeaders(headers: Record<string, string | string[] | undefined>): Context {
  const t = parseTraceparent(headers[HEADER_TRACEPARENT]);
  if (!t) return propagation.extract(ROOT_CONTEXT, headers);
  const state = headers[HEADER_TRACESTATE];
  const traceState = typeof state === 'string' && state.length > 0 ? createTraceState(state) : undefined;
  return trace.setSpanContext(ROOT_CONTEXT, { traceId: t.traceId, spanId: t.spanId, traceFlags: t.flags, isRemote: true, ...(traceState ? { traceState } : {}) });
}

/** Runs `fn` in a new span (a child of `parent`, the active context by default) and as the active context, ending it when `fn` settles. */
export async function inSpan<T>(name: string, kind: SpanKind, attributes: Record<string, string | number>, fn: (span: Span) => Promise<T>, parent: Context = context.active()): Promise<T> {
  const span = tracer.startSpan(name, { kind, attributes }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw err;
  } finally {
    span.end();
  }
}

export { SpanKind };
