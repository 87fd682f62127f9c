import { HEADER_TRACEPARENT, HEADER_TRACESTATE, cleanTracestate } from '@dtx/protocol';
import { SpanKind, SpanStatusCode, type Context, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { contextOf, traceToStore, tracer, type StoredTrace } from './trace-context.js';

const spans = new WeakMap<FastifyRequest, { span: Span; received: Context }>();

/**
 * A server span for each API request, a child of the W3C `traceparent` it carried.
 * Added before any other hook, so refused requests (401, 503) have one too.
 */
export function requestSpans(app: FastifyInstance): void {
  // callback hooks, not async ones: no promise per request
  app.addHook('onRequest', (req, _reply, done) => {
    const received = contextOf(first(req.headers[HEADER_TRACEPARENT]), cleanTracestate(req.headers[HEADER_TRACESTATE]));
    const route = req.routeOptions.url ?? 'unmatched';
    const span = tracer.startSpan(`${req.method} ${route}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'http.route': route } }, received);
    spans.set(req, { span, received });
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    const s = spans.get(req);
    if (s) {
      s.span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) s.span.setStatus({ code: SpanStatusCode.ERROR });
      s.span.end();
      spans.delete(req);
    }
    done();
  });
  app.addHook('onRequestAbort', (req, done) => {
    spans.get(req)?.span.end();
    spans.delete(req);
    done();
  });
}

/** The trace a transaction begun by this request stores (PROTOCOL.md v1.1 "Trace context"). */
export function traceOfRequest(req: FastifyRequest): StoredTrace {
  const s = spans.get(req);
  return traceToStore(s?.span, s?.received ?? contextOf(null));
}

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
