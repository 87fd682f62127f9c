import { createHmac, timingSafeEqual } from 'node:crypto';

/** A signature older (or newer) than this is refused. */
export const SIGNATURE_TOLERANCE_MS = 5 * 60_000;

/**
 * A callback URL as signatures bind it: origin (scheme, lower-case host, port unless the
 * default), path and query; no credentials, no fragment. The caller and the participant
 * both normalise through this, so `HTTP://Wallet:80/dtx/…` and `http://wallet/dtx/…` agree.
 */
export function callbackDestination(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}${u.search}`;
}

/**
 * `t=<unix ms>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>,v2=<hex HMAC-SHA256(secret, "<t>.<destination>\n<raw body>")>`.
 * v2 binds the body to the URL it is sent to (callbackDestination), so a captured callback
 * replayed to another participant that shares the secret is refused. v1 stays in the header
 * for participants that check only v1 (older SDKs), during a rolling upgrade.
 */
export function signCallback(secret: string, destination: string, rawBody: string | Buffer, nowMs = Date.now()): string {
  return `t=${nowMs},v1=${hmacV1(secret, nowMs, rawBody)},v2=${hmacV2(secret, nowMs, callbackDestination(destination), rawBody)}`;
}

/** A v1 signature alone (`t=…,v1=…`): what coordinators before v2 sent; bound to no destination. */
export function signBody(secret: string, rawBody: string | Buffer, nowMs = Date.now()): string {
  return `t=${nowMs},v1=${hmacV1(secret, nowMs, rawBody)}`;
}

/**
 * Why a signature was refused. `unbound`: v1 only, not accepted here; `destination`: a
 * genuine signature for this body, made for another URL (a replay, or a participant whose
 * public URL is not the one the coordinator calls).
 */
export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' | 'unbound' | 'destination' };

export interface VerifyOptions {
  /** The URL this callback arrived at, as the caller would have named it. */
  destination: string;
  /** Also accept a v1-only signature (not bound to a destination). @default false */
  acceptV1?: boolean;
  nowMs?: number;
  toleranceMs?: number;
}

export function verifySignature(secret: string, header: string | undefined, rawBody: string | Buffer, opts: VerifyOptions): SignatureCheck {
  const { nowMs = Date.now(), toleranceMs = SIGNATURE_TOLERANCE_MS } = opts;
  if (!header) return { ok: false, reason: 'missing' };
  const parts = new Map<string, string>();
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) parts.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1');
  const v2 = parts.get('v2');
  const hex = (v: string | undefined) => v !== undefined && /^[0-9a-f]{64}$/i.test(v);
  if (!Number.isSafeInteger(t) || (!hex(v1) && !hex(v2)) || (v1 !== undefined && !hex(v1)) || (v2 !== undefined && !hex(v2))) {
    return { ok: false, reason: 'malformed' };
  }
  if (Math.abs(nowMs - t) > toleranceMs) return { ok: false, reason: 'stale' };
  const v1Holds = v1 !== undefined && same(hmacV1(secret, t, rawBody), v1);
  if (v2 === undefined) {
    if (!v1Holds) return { ok: false, reason: 'mismatch' };
    return opts.acceptV1 ? { ok: true } : { ok: false, reason: 'unbound' };
  }
  if (same(hmacV2(secret, t, callbackDestination(opts.destination), rawBody), v2)) return { ok: true };
  return { ok: false, reason: v1Holds ? 'destination' : 'mismatch' };
}

const same = (expectedHex: string, givenHex: string): boolean => timingSafeEqual(Buffer.from(expectedHex, 'hex'), Buffer.from(givenHex, 'hex'));

function hmacV1(secret: string, t: number, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest('hex');
}

function hmacV2(secret: string, t: number, destination: string, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(`${t}.${destination}\n`).update(rawBody).digest('hex');
}
