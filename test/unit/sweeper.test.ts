import { describe, expect, test } from 'vitest';
import { Sweeper } from '../../coordinator/src/recovery/sweeper.js';

/** A log of `n` due transactions in memory: recover finishes one (it is no longer due) after `recoverMs`. */
function backlog(n: number, recoverMs = 1) {
  const due = new Set(Array.from({ length: n }, (_, i) => `x${i}`));
  const driven = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  return {
    due,
    driven,
    get maxInFlight() {
      return maxInFlight;
    },
    findDue: async (limit: number) => [...due].slice(0, limit),
    recover: async (xid: string) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      driven.set(xid, (driven.get(xid) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, recoverMs));
      due.delete(xid);
      inFlight--;
    },
  };
}

const until = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('Sweeper', () => {
  test('a backlog drains in back-to-back sweeps while they find full batches: one interval wait, at the start', async () => {
    const log = backlog(1000);
    // an interval no test could wait for twice: only the first wait (before the first sweep) fits in the timeout
    const s = new Sweeper({ ...log, intervalMs: 300, concurrency: 10, batchSize: 100 });
    const started = Date.now();
    s.start();
    await until(() => log.due.size === 0);
    const tookMs = Date.now() - started;
    await s.close();
    expect([...log.driven.values()].every((n) => n === 1)).toBe(true);
    expect(log.driven.size).toBe(1000);
    expect(log.maxInFlight).toBeLessThanOrEqual(10);
    // 10 full batches; the old sweeper took one batch per interval, 10 intervals
    expect(s.sweeps).toBeGreaterThanOrEqual(10);
    expect(tookMs).toBeLessThan(300 * 5);
  });

  test('after a sweep that found less than a full batch it waits the interval', async () => {
    const log = backlog(5);
    const s = new Sweeper({ ...log, intervalMs: 200, concurrency: 10, batchSize: 100 });
    s.start();
    await until(() => log.due.size === 0);
    const sweeps = s.sweeps;
    await new Promise((r) => setTimeout(r, 100));
    expect(s.sweeps).toBe(sweeps);
    await s.close();
    expect(sweeps).toBe(1);
  });

  test('a failing recover makes it wait the interval, even after a full batch', async () => {
    const calls: string[] = [];
    const errors: Error[] = [];
    const s = new Sweeper({
      findDue: async (limit) => Array.from({ length: limit }, (_, i) => `x${i}`),
      recover: async (xid) => {
        calls.push(xid);
        throw new Error('database down');
      },
      intervalMs: 200,
      concurrency: 2,
      batchSize: 4,
      onError: (err) => errors.push(err),
    });
    s.start();
    await until(() => s.sweeps >= 1 && calls.length >= 4);
    await new Promise((r) => setTimeout(r, 100));
    expect(s.sweeps).toBe(1);
    await s.close();
    expect(errors.length).toBe(calls.length);
  });

  test('close() stops at once: it waits for the transactions being driven, not for the backlog', async () => {
    const log = backlog(10_000, 50);
    const s = new Sweeper({ ...log, intervalMs: 1, concurrency: 8, batchSize: 1000 });
    s.start();
    await until(() => log.driven.size >= 8);
    const before = log.driven.size;
    await s.close();
    expect(log.driven.size).toBeLessThanOrEqual(before + 8);
    const after = log.driven.size;
    await new Promise((r) => setTimeout(r, 100));
    expect(log.driven.size).toBe(after);
    expect(log.due.size).toBeGreaterThan(9000);
  });
});
