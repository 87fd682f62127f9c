import type { DueWork } from '../../log/queries/findDue.js';

export interface SweepDeps {
  /** Due transactions by index, oldest due first. */
  findDue(now: number, limit: number): Promise<DueWork[]>;
  enqueue(work: readonly DueWork[]): Promise<void>;
  now(): number;
  limit: number;
  /**
   * Recovery jobs enqueued and not yet taken. With it, a sweep that found a full
   * batch (a backlog) sweeps again as soon as the workers have taken half of it.
   */
  waiting?(): Promise<number>;
  /** How long a full sweep waits for the workers to take half of it before it ends (the next scheduled sweep goes on). */
  refillWaitMs?: number;
  /** False once the worker closes: the sweep ends at once. */
  running?(): boolean;
  sleep?(ms: number): Promise<void>;
}

/**
 * A sweep: find due work in the log and enqueue one job per transaction. Cheap
 * and idempotent (job ids collapse, so the jobs still waiting that the next batch
 * finds again are not doubled), so an overlapping sweep does no harm; the claim
 * in the database, not the queue, decides who drives a transaction. While the
 * batches come back full it keeps the queue topped up instead of waiting for the
 * next interval. Returns how many it enqueued, collapsed ones included.
 */
export async function sweepDueWork(deps: SweepDeps): Promise<number> {
  const running = deps.running ?? (() => true);
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let total = 0;
  for (;;) {
    const work = await deps.findDue(deps.now(), deps.limit);
    await deps.enqueue(work);
    total += work.length;
    if (work.length < deps.limit || !deps.waiting || !running()) return total;
    const giveUpAt = deps.now() + (deps.refillWaitMs ?? 1000);
    while ((await deps.waiting()) > deps.limit / 2) {
      if (!running() || deps.now() >= giveUpAt) return total;
      await sleep(50);
    }
  }
}
