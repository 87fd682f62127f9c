import { backoffDelayMs, parseRetryAfter, RETRY_AFTER_CAP_MS } from '@dtx/protocol';
import { describe, expect, test } from 'vitest';
import { planAfterRound } from '../../coordinator/src/core/phase2-outcome.js';

const policy = { baseMs: 1000, maxMs: 60_000 };

describe('backoff', () => {
  test.each([
    [1, 500, 1000],
    [2, 1000, 2000],
    [3, 2000, 4000],
    [6, 16_000, 32_000],
    [7, 30_000, 60_000],
    [20, 30_000, 60_000],
    [1000, 30_000, 60_000],
  ])('after failed attempt %i the delay is in (%i, %i]', (n, low, high) => {
    expect(backoffDelayMs(policy, n, null, () => 0)).toBe(high); // uniform draw 0 → factor 1
    expect(backoffDelayMs(policy, n, null, () => 0.999_999)).toBeGreaterThan(low - 1);
    for (let i = 0; i < 50; i++) {
      const d = backoffDelayMs(policy, n);
      expect(d).toBeGreaterThan(low - 1);
      expect(d).toBeLessThanOrEqual(high);
    }
  });

  test('Retry-After wins, capped at 10 minutes', () => {
    expect(backoffDelayMs(policy, 1, 7000)).toBe(7000);
    expect(backoffDelayMs(policy, 9, 0)).toBe(0);
    expect(backoffDelayMs(policy, 1, 3_600_000)).toBe(RETRY_AFTER_CAP_MS);
  });

  test('Retry-After in seconds or as an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('soon')).toBeNull();
    expect(parseRetryAfter(undefined)).toBeNull();
  });
});

describe('planning after a phase-2 round', () => {
  const p = { ...policy, stuckAfterAttempts: 3 };

  test('all branches done: finished, attempts unchanged', () => {
    expect(planAfterRound([{ branchId: 'a', ok: true }], 2, 0, p)).toEqual({ finished: true, attempts: 2, stuck: false, nextRetryAt: null, lastError: null });
  });

  test('a failure counts an attempt and schedules the retry with backoff', () => {
    const plan = planAfterRound([{ branchId: 'a', ok: true }, { branchId: 'b', ok: false, error: 'confirm b: HTTP 503' }], 0, 10_000, p, () => 0);
    expect(plan).toEqual({ finished: false, attempts: 1, stuck: false, nextRetryAt: 11_000, lastError: 'confirm b: HTTP 503' });
  });

  test('the largest Retry-After among failures wins', () => {
    const plan = planAfterRound([{ branchId: 'a', ok: false, retryAfterMs: 2000 }, { branchId: 'b', ok: false, retryAfterMs: 9000 }], 0, 0, p);
    expect(plan.nextRetryAt).toBe(9000);
  });

  test('after stuckAfterAttempts rounds it is stuck and retried at the maximum backoff', () => {
    expect(planAfterRound([{ branchId: 'a', ok: false }], 1, 0, p).stuck).toBe(false);
    const plan = planAfterRound([{ branchId: 'a', ok: false }], 2, 0, p);
    expect(plan).toMatchObject({ finished: false, attempts: 3, stuck: true, nextRetryAt: 60_000 });
  });
});
