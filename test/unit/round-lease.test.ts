import { expect, test } from 'vitest';
import { ROUND_WRITE_MARGIN_MS, roundLeaseMs } from '../../coordinator/src/core/round-lease.js';

test.each([
  { timeouts: [], order: 'parallel', calls: 0 },
  { timeouts: [5000], order: 'parallel', calls: 5000 },
  { timeouts: [1000, 600_000, 2000], order: 'parallel', calls: 600_000 },
  { timeouts: [1000, 3000, 2000], order: 'sequential', calls: 6000 },
  { timeouts: [5000], order: 'sequential', calls: 5000 },
] as const)('a $order round of calls timing out after $timeouts ms lasts at most $calls ms plus its write', ({ timeouts, order, calls }) => {
  expect(roundLeaseMs(timeouts, order)).toBe(calls + ROUND_WRITE_MARGIN_MS);
});

test("the defaults (5 s calls, 10 s lease) need no longer lease for a parallel round", () => {
  expect(roundLeaseMs([5000, 5000], 'parallel')).toBeLessThanOrEqual(10_000);
});
