import type { CallPhase } from './types.js';

/**
 * How a caller reads a participant's answer (PROTOCOL.md "How the caller reads the answer").
 * - `ok`: done; for try a JSON body is kept as tryResult.
 * - `rejected`: a try (or saga action) the business refused (or a misconfiguration): roll back, no retry.
 * - `retry`: transient, or a confirm/cancel that failed: retry with backoff.
 *
 * A message's check-back (v1.2) reads exactly: 200 `ok` (the producer committed), 409
 * `rejected` (it did not and never will), anything else `retry`.
 */
export type AnswerKind = 'ok' | 'rejected' | 'retry';

/** `status` is the HTTP status, or null for a timeout or connection error. */
export function classifyAnswer(phase: CallPhase, status: number | null): AnswerKind {
  if (phase === 'check') return status === 200 ? 'ok' : status === 409 ? 'rejected' : 'retry';
  if (status !== null && status >= 200 && status < 300) return 'ok';
  if ((phase !== 'try' && phase !== 'action') || isTransient(status)) return 'retry';
  return 'rejected'; // 4xx, and 1xx/3xx: a misconfigured URL (redirects are not followed)
}

/** No answer, 5xx, 408 or 429: the participant may answer otherwise later. */
export function isTransient(status: number | null): boolean {
  return status === null || status >= 500 || status === 408 || status === 429;
}
