import { describe, expect, test } from 'vitest';
import { sweepDueWork } from '../../coordinator/src/recovery/bullmq/sweep.js';
import type { DueWork } from '../../coordinator/src/log/queries/findDue.js';

/**
 * A log of `n` due transactions and a queue in memory: the queue's job ids collapse
 * (xid@dueAt), and each sleep a worker takes `takePerSleep` jobs and finishes them.
 */
function world(n: number, takePerSleep: number) {
  const due = new Map<string, number>(Array.from({ length: n }, (_, i) => [`x${i}`, i]));
  const queue = new Map<string, DueWork>();
  let clock = 0;
  let finds = 0;
  return {
    due,
    queue,
    get finds() {
      return finds;
    },
    findDue: async (_now: number, limit: number) => (finds++, [...due].slice(0, limit).map(([xid, dueAt]) => ({ xid, dueAt }))),
    enqueue: async (work: readonly DueWork[]) => void work.forEach((w) => queue.set(`${w.xid}@${w.dueAt}`, w)),
    waiting: async () => queue.size,
    now: () => clock,
    sleep: async (ms: number) => {
      clock += ms;
      for (const [id, w] of [...queue].slice(0, takePerSleep)) {
        queue.delete(id);
        due.delete(w.xid);
      }
    },
  };
}

describe('sweepDueWork', () => {
  test('while batches come back full it tops the queue up as the workers take it, then ends on a short batch', async () => {
    const w = world(1000, 20);
    const n = await sweepDueWork({ ...w, limit: 100, refillWaitMs: 1000 });
    // the whole backlog went through the queue in one sweep, never more than one batch waiting
    expect(w.due.size).toBeLessThan(100);
    expect(w.finds).toBeGreaterThan(10);
    expect(n).toBeGreaterThanOrEqual(1000);
  });

  test('it ends when the workers do not take half a batch within refillWaitMs', async () => {
    const w = world(1000, 0);
    await sweepDueWork({ ...w, limit: 100, refillWaitMs: 500 });
    expect(w.finds).toBe(1);
    expect(w.queue.size).toBe(100);
  });

  test('it ends at once when the worker closes', async () => {
    const w = world(1000, 20);
    let open = true;
    await sweepDueWork({ ...w, limit: 100, running: () => open, sleep: async (ms) => ((open = false), w.sleep(ms)) });
    expect(w.finds).toBe(1);
  });

  test('without a waiting count it is one batch, as before', async () => {
    const w = world(1000, 20);
    const n = await sweepDueWork({ findDue: w.findDue, enqueue: w.enqueue, now: w.now, limit: 100 });
    expect([n, w.finds]).toEqual([100, 1]);
  });
});
