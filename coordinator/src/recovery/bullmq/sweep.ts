import type { DueWork } from '../../log/queries/findDue.js';

export interface SweepDeps {
  /** Due transactions by index, oldest due first. */
  findDue(now: number, limit: number): Promise<DueWork[]>;
  enqueue(work: readonly DueWork[]): Promise<void>;
  now(): number;
  limit: number;
}

/**
 * One sweep: find due work in the log and enqueue one job per transaction. Cheap
 * and idempotent (job ids collapse), so an overlapping sweep does no harm; the
 * claim in the database, not the queue, decides who drives a transaction.
 */
export async function sweepDueWork(deps: SweepDeps): Promise<number> {
  const work = await deps.findDue(deps.now(), deps.limit);
  await deps.enqueue(work);
  return work.length;
}
