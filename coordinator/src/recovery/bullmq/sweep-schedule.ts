import { Queue } from 'bullmq';
import { toError } from '../../errors.js';
import { bullmqConnection, type RedisTarget } from './redis.js';

/** Sweeps have their own queue, so they never wait behind a backlog of recovery jobs. */
export const SWEEP_QUEUE = 'recovery-sweep';
export const SWEEP_JOB = 'sweep';
const SCHEDULER_ID = 'sweep';

/**
 * The cluster-wide sweep: a BullMQ job scheduler that emits one sweep job every
 * interval, whichever worker takes it. Redis may lose it (FLUSHALL, a restart
 * without persistence), so workers call `ensure()` now and then to put it back.
 */
export class SweepSchedule {
  readonly #queue: Queue;
  readonly #release: () => Promise<void>;

  constructor(
    target: RedisTarget,
    prefix: string,
    private readonly intervalMs: number,
    onError: (err: Error) => void = () => {},
  ) {
    const { connection, release } = bullmqConnection(target);
    this.#release = release;
    this.#queue = new Queue(SWEEP_QUEUE, { connection, prefix });
    this.#queue.on('error', (err) => onError(toError(err)));
  }

  /** Creates or updates the scheduler (a changed interval takes effect). */
  async upsert(): Promise<void> {
    await this.#queue.upsertJobScheduler(SCHEDULER_ID, { every: this.intervalMs }, { name: SWEEP_JOB, data: {}, opts: { removeOnComplete: true, removeOnFail: true } });
  }

  /** Puts the scheduler back if Redis lost it; true when it had to. */
  async ensure(): Promise<boolean> {
    if (await this.#queue.getJobScheduler(SCHEDULER_ID)) return false;
    await this.upsert();
    return true;
  }

  async close(): Promise<void> {
    await this.#queue.close();
    await this.#release();
  }
}
