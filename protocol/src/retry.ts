/**
 * Retry delay after the n-th failed attempt (n >= 1), PROTOCOL.md:
 * min(maxMs, baseMs * 2^(n-1)) * uniform(0.5, 1], unless Retry-After was given (capped at 10 min).
 */
export const RETRY_AFTER_CAP_MS = 10 * 60_000;

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export function backoffDelayMs(
  policy: BackoffPolicy,
  failedAttempts: number,
  retryAfterMs?: number | null,
  random: () => number = Math.random,
): number {
  if (retryAfterMs != null && retryAfterMs >= 0) return Math.min(retryAfterMs, RETRY_AFTER_CAP_MS);
  const n = Math.max(1, Math.floor(failedAttempts));
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(n - 1, 52));
  const jitter = 1 - 0.5 * random(); // (0.5, 1]
  return Math.max(1, Math.round(exp * jitter));
}

/** Parses a Retry-After header (delta-seconds or HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs = Date.now()): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}
