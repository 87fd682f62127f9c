import { backoffDelayMs, TEXT_LIMITS, type BackoffPolicy } from '@dtx/protocol';

export interface CallOutcome {
  branchId: string;
  ok: boolean;
  /** `confirm wallet.debit: HTTP 503` */
  error?: string;
  retryAfterMs?: number | null;
}

export interface RoundPlan {
  /** Every branch is done: the transaction reaches its final status. */
  finished: boolean;
  attempts: number;
  stuck: boolean;
  nextRetryAt: number | null;
  lastError: string | null;
}

/**
 * What one phase-2 round means for the transaction: finished, or retried after a backoff.
 * Past `stuckAfterAttempts` failed rounds it is flagged stuck and retried at the maximum backoff.
 */
export function planAfterRound(
  outcomes: readonly CallOutcome[],
  previousAttempts: number,
  now: number,
  policy: BackoffPolicy & { stuckAfterAttempts: number },
  random: () => number = Math.random,
): RoundPlan {
  const failed = outcomes.filter((o) => !o.ok);
  if (failed.length === 0) return { finished: true, attempts: previousAttempts, stuck: false, nextRetryAt: null, lastError: null };
  const attempts = previousAttempts + 1;
  const stuck = attempts >= policy.stuckAfterAttempts;
  const retryAfters = failed.map((o) => o.retryAfterMs).filter((v): v is number => v != null);
  const retryAfter = retryAfters.length ? Math.max(...retryAfters) : null;
  const delay = stuck && retryAfter == null ? policy.maxMs : backoffDelayMs(policy, attempts, retryAfter, random);
  return {
    finished: false,
    attempts,
    stuck,
    nextRetryAt: now + delay,
    lastError: failed.map((o) => o.error ?? 'failed').join('; ').slice(0, TEXT_LIMITS.errorChars),
  };
}
