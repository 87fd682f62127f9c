import { createHmac, timingSafeEqual } from 'node:crypto';

/** A signature older (or newer) than this is refused. */
export const SIGNATURE_TOLERANCE_MS = 5 * 60_000;

/** `t=<unix ms>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` */
export function signBody(secret: string, rawBody: string | Buffer, nowMs = Date.now()): string {
  return `t=${nowMs},v1=${hmac(secret, nowMs, rawBody)}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

export function verifySignature(
  secret: string,
  header: string | undefined,
  rawBody: string | Buffer,
  nowMs = Date.now(),
  toleranceMs = SIGNATURE_TOLERANCE_MS,
): SignatureCheck {
  if (!header) return { ok: false, reason: 'missing' };
  const parts = new Map<string, string>();
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) parts.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1');
  if (!Number.isSafeInteger(t) || !v1 || !/^[0-9a-f]{64}$/i.test(v1)) return { ok: false, reason: 'malformed' };
  if (Math.abs(nowMs - t) > toleranceMs) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(hmac(secret, t, rawBody), 'hex');
  const given = Buffer.from(v1, 'hex');
  return timingSafeEqual(expected, given) ? { ok: true } : { ok: false, reason: 'mismatch' };
}

function hmac(secret: string, t: number, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest('hex');
}
