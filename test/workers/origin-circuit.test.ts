import { describe, expect, test } from 'vitest';
import type { CallAnswer, CallRequest, ParticipantCaller } from '../../coordinator/src/phase2/participant-caller.js';
import { CircuitBreakingCaller, isHealthy } from '../../coordinator/src/recovery/circuit-caller.js';
import { OriginCircuits } from '../../coordinator/src/recovery/origin-circuit.js';
import { recoverJobId } from '../../coordinator/src/recovery/bullmq/recovery-queue.js';
import { sweepDueWork } from '../../coordinator/src/recovery/bullmq/sweep.js';

const A = 'http://a.test:1';
const policy = { failureThreshold: 3, openMs: 1000, maxOpenMs: 4000, probeWaitMs: 200 };

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('OriginCircuits', () => {
  test('opens after the threshold of consecutive failures, and a success in between resets the count', () => {
    const k = clock();
    const c = new OriginCircuits(policy, k.now);
    c.record(A, false);
    c.record(A, false);
    c.record(A, true);
    c.record(A, false);
    c.record(A, false);
    expect(c.state(A)).toBe('closed');
    expect(c.admit(A)).toEqual({ ok: true });
    c.record(A, false);
    expect(c.state(A)).toBe('open');
    k.advance(400);
    expect(c.admit(A)).toEqual({ ok: false, retryAfterMs: 600 });
    expect(c.admit('http://b.test:1')).toEqual({ ok: true }); // origins are independent
  });

  test.each([
    // probe outcome → state after it, and how long the circuit then stays open
    { probe: true, after: 'closed', reopenMs: null },
    { probe: false, after: 'open', reopenMs: 2000 },
  ])('half-open lets one probe through; a probe that $after', ({ probe, after, reopenMs }) => {
    const k = clock();
    const c = new OriginCircuits(policy, k.now);
    for (let i = 0; i < 3; i++) c.record(A, false);
    k.advance(1000);
    expect(c.state(A)).toBe('half_open');
    expect(c.admit(A)).toEqual({ ok: true }); // the probe
    expect(c.admit(A)).toEqual({ ok: false, retryAfterMs: 200 }); // others wait for it
    c.record(A, probe);
    expect(c.state(A)).toBe(after);
    if (reopenMs !== null) expect(c.admit(A)).toEqual({ ok: false, retryAfterMs: reopenMs });
  });

  test('the open period doubles while probes fail, up to maxOpenMs', () => {
    const k = clock();
    const c = new OriginCircuits(policy, k.now);
    for (let i = 0; i < 3; i++) c.record(A, false);
    const periods: number[] = [];
    for (let i = 0; i < 4; i++) {
      const denied = c.admit(A);
      periods.push(denied.ok ? 0 : denied.retryAfterMs);
      k.advance(periods.at(-1)!);
      expect(c.admit(A).ok).toBe(true);
      c.record(A, false);
    }
    expect(periods).toEqual([1000, 2000, 4000, 4000]);
  });
});

describe('CircuitBreakingCaller', () => {
  const req = (url: string): CallRequest => ({ url, attempt: 1, timeoutMs: 1000, body: { xid: 'x', branchId: 'b', phase: 'confirm', payload: null } });
  const answers: Record<string, CallAnswer> = {
    ok: { kind: 'ok', status: 200, retryAfterMs: null },
    down: { kind: 'retry', status: null, retryAfterMs: null, error: 'connect ECONNREFUSED' },
    refused: { kind: 'retry', status: 409, retryAfterMs: null, error: 'HTTP 409' },
  };

  test.each([
    [200, true],
    [409, true],
    [422, true],
    [408, false],
    [429, false],
    [503, false],
    [null, false],
  ])('HTTP %s counts as healthy: %s', (status, healthy) => {
    expect(isHealthy({ kind: 'retry', status, retryAfterMs: null })).toBe(healthy);
  });

  test('an open circuit answers at once with a Retry-After, without calling', async () => {
    const k = clock();
    const made: string[] = [];
    let next = answers.down!;
    const inner: ParticipantCaller = { call: async (r) => (made.push(r.url), next), close: async () => {} };
    const caller = new CircuitBreakingCaller(inner, new OriginCircuits(policy, k.now), () => 0);
    for (let i = 0; i < 3; i++) await caller.call(req(`${A}/w/confirm`));
    const held = await caller.call(req(`${A}/w/cancel`));
    expect(made).toHaveLength(3);
    expect(held).toMatchObject({ kind: 'retry', status: null, retryAfterMs: 1000 });
    expect(held.error).toMatch(/circuit open for http:\/\/a\.test:1/);
    expect(caller.heldBack).toBe(1);
    // a business refusal from the probe still proves the origin is up
    k.advance(1000);
    next = answers.refused!;
    await caller.call(req(`${A}/w/confirm`));
    next = answers.ok!;
    expect(await caller.call(req(`${A}/w/confirm`))).toEqual(answers.ok);
    expect(made).toHaveLength(5);
  });
});

describe('sweep and job ids', () => {
  test('a sweep enqueues what the log finds due, with its due time', async () => {
    const enqueued: unknown[] = [];
    const n = await sweepDueWork({
      findDue: async (now, limit) => (expect([now, limit]).toEqual([5000, 2]), [{ xid: 'a', dueAt: 10 }, { xid: 'b', dueAt: 20 }]),
      enqueue: async (w) => void enqueued.push(...w),
      now: () => 5000,
      limit: 2,
    });
    expect(n).toBe(2);
    expect(enqueued).toEqual([{ xid: 'a', dueAt: 10 }, { xid: 'b', dueAt: 20 }]);
  });

  test('job ids: one per xid and due time, no ":" (BullMQ refuses it), distinct for distinct xids', () => {
    expect(recoverJobId('01J:shard-1', 1700000000000)).toBe('01J%3Ashard-1@1700000000000');
    expect(recoverJobId('a:b', 1)).not.toBe(recoverJobId('a%3Ab', 1));
    expect(recoverJobId('x', 1)).not.toBe(recoverJobId('x', 2));
  });
});
