import { Queue, type JobsOptions } from 'bullmq';
import { toError } from '../../errors.js';
import type { DueWork } from '../../log/queries/findDue.js';
import { settleWithin } from '../../settle-within.js';
import { bullmqConnection, type RedisTarget } from './redis.js';

/** BullMQ queue of recovery jobs, one per due transaction. */
export const RECOVERY_QUEUE = 'recovery';
export const RECOVER_JOB = 'recover';

export interface RecoverJobData {
  xid: string;
}

/**
 * One attempt per job: the log schedules retries, not BullMQ. Finished jobs are
 * removed so their ids never block a later enqueue (a failed job keeps its due
 * time, and the sweep re-adds that same id once the database answers again).
 */
export const RECOVER_JOB_OPTIONS: JobsOptions = { attempts: 1, removeOnComplete: true, removeOnFail: true };

/**
 * `<xid>@<due time>`: every sweep that sees the transaction due at the same time
 * adds the same id, so duplicates collapse; once a round reschedules it, the new
 * due time is a new job, even if a dead worker's job with the old id lingers.
 * BullMQ forbids `:` in ids, which xids may contain.
 */
export function recoverJobId(xid: string, due: number | string): string {
  return `${xid.replaceAll('%', '%25').replaceAll(':', '%3A')}@${due}`;
}

/** The producer side: the sweep, coordinators (operator retry) and `dtx tx retry` enqueue here. */
export class RecoveryQueue {
  readonly #queue: Queue<RecoverJobData>;
  readonly #release: () => Promise<void>;

  constructor(target: RedisTarget, prefix: string, onError: (err: Error) => void = () => {}) {
    const { connection, release } = bullmqConnection(target);
    this.#release = release;
    this.#queue = new Queue<RecoverJobData>(RECOVERY_QUEUE, { connection, prefix, defaultJobOptions: RECOVER_JOB_OPTIONS });
    this.#queue.on('error', (err) => onError(toError(err)));
  }

  async enqueue(work: readonly DueWork[]): Promise<void> {
    if (work.length === 0) return;
    await this.#queue.addBulk(work.map((w) => ({ name: RECOVER_JOB, data: { xid: w.xid }, opts: { ...RECOVER_JOB_OPTIONS, jobId: recoverJobId(w.xid, w.dueAt) } })));
  }

  /**
   * Operator retry: a job of its own, now. Bounded by `timeoutMs` and never
   * throws: the log already says the transaction is due, so if Redis does not
   * answer the next sweep enqueues it. Resolves true when enqueued.
   */
  async enqueueNow(xid: string, now: number, timeoutMs = 2000): Promise<boolean> {
    const add = this.#queue.add(RECOVER_JOB, { xid }, { ...RECOVER_JOB_OPTIONS, jobId: recoverJobId(xid, `retry-${now}`) }).then(
      () => true,
      () => false,
    );
    return settleWithin(add, timeoutMs, false);
  }

  /** Jobs enqueued and not yet taken by a worker. */
  waiting(): Promise<number> {
    return this.#queue.getWaitingCount();
  }

  async close(): Promise<void> {
    await this.#queue.close();
    await this.#release();
  }
}
