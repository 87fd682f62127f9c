import { randomHex } from './random-pool.js';

/** W3C Trace Context header names (https://www.w3.org/TR/trace-context/), PROTOCOL.md v1.1 "Trace context". */
export const HEADER_TRACEPARENT = 'traceparent';
export const HEADER_TRACESTATE = 'tracestate';
/**
 * Response header of `GET /v1/transactions/:xid`: the trace id its callbacks carry. A
 * header, not a field, so the body stays exactly PROTOCOL.md's shape.
 */
export const HEADER_TRACE_ID = 'dtx-trace-id';

/** The parts of a `traceparent` header: `00-<traceId>-<spanId>-<flags>`. */
export interface TraceParent {
  traceId: string;
  spanId: string;
  /** The trace flags byte (bit 0: sampled). */
  flags: number;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;
const ALL_ZERO = /^0+$/;

/** A valid `traceparent`, or null (absent, malformed, version ff, or an all-zero id), as the spec says to ignore those. */
export function parseTraceparent(header: string | string[] | undefined | null): TraceParent | null {
  const text = Array.isArray(header) ? header[0] : header;
  if (typeof text !== 'string') return null;
  const m = TRACEPARENT.exec(text.trim().toLowerCase());
  if (!m) return null;
  const [, version, traceId, spanId, flags] = m as unknown as [string, string, string, string, string];
  if (version === 'ff' || (version === '00' && text.trim().length !== 55)) return null;
  if (ALL_ZERO.test(traceId) || ALL_ZERO.test(spanId)) return null;
  return { traceId, spanId, flags: parseInt(flags, 16) };
}

export function formatTraceparent(t: TraceParent): string {
  return `00-${t.traceId}-${t.spanId}-${(t.flags & 0xff).toString(16).padStart(2, '0')}`;
}

/** A `tracestate` worth keeping: printable, at most 512 characters (the spec's limit), else null. */
export function cleanTracestate(header: string | string[] | undefined | null): string | null {
  const text = Array.isArray(header) ? header.join(',') : header;
  if (typeof text !== 'string') return null;
  const t = text.trim();
  return t.length > 0 && t.length <= 512 && /^[\x20-\x7e]+$/.test(t) ? t : null;
}

export const newTraceId = (): string => randomHex(16);
export const newSpanId = (): string => randomHex(8);
