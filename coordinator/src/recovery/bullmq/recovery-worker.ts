import type { TxStatus } from '@dtx/protocol';
import { Worker, type Job } from 'bullmq';
import { isFinal } from '../../core/transitions.js';
import { toError } from '../../errors.js';
import { RECOVERY_QUEUE, type RecoverJobData } from './recovery-queue.js';
import { bullmqConnection, type RedisTarget } from './redis.js';
import { SWEEP_QUEUE } from './sweep-schedule.js';
import { settleWithin } from '../../settle-within.js';

export interface RecoveryWorkerDeps {
  connection: RedisTarget;
  prefix: string;
  /** Recovery jobs run at once in this process. */
  concurrency: number;
  /** Claims and drives one transaction (recoverTransaction): null when another process holds it or it is no longer due. */
  recover(xid: string): Promise<TxStatus | null>;
  /** One sweep: due work from the log onto the queue, until `running()` turns false; returns how many it found. */
  sweep(running: () => boolean): Promise<number>;
  /** Puts the sweep scheduler back if Redis lost it; true when it had to. */
  ensureSchedule(): Promise<boolean>;
  /** How often `ensureSchedule` runs. */
  ensureEveryMs: number;
  onError?(context: string, err: Error): void;
  /** Things an operator may want to know, e.g. that Redis had lost the sweep scheduler. */
  onNotice?(message: string): void;
}

export interface RecoveryWorkerStats {
  /** Recovery jobs taken. */
  jobs: number;
  /** Jobs whose claim succeeded, so a phase-2 round (or a timeout rollback) ran here. */
  driven: number;
  /** Of those, transactions that reached committed/rolled_back here. */
  finished: number;
  /** Jobs with nothing to do: another process held the transaction, or it was no longer due. */
  skipped: number;
  /** Jobs that threw (database or Redis down); the log keeps them due. */
  failed: number;
  sweeps: number;
}

/**
 * A `dtx worker`'s consumer: BullMQ workers on the recovery and sweep queues, and
 * a timer that keeps the sweep scheduler in place. All I/O beyond BullMQ comes in
 * through `deps`.
 */
export class RecoveryWorker {
  readonly stats: RecoveryWorkerStats = { jobs: 0, driven: 0, finished: 0, skipped: 0, failed: 0, sweeps: 0 };
  #recoverer: Worker<RecoverJobData> | null = null;
  #sweeper: Worker | null = null;
  #ensureTimer: NodeJS.Timeout | null = null;
  #ensuring = false;
  /** Closes the cluster clients given to the BullMQ workers (redis.ts), once those are closed. */
  #releases: (() => Promise<void>)[] = [];

  constructor(private readonly deps: RecoveryWorkerDeps) {}

  start(): void {
    if (this.#recoverer) return;
    const { prefix } = this.deps;
    const onError = (context: string) => (err: unknown) => this.deps.onError?.(context, toError(err));
    const connection = () => {
      const c = bullmqConnection(this.deps.connection);
      this.#releases.push(c.release);
      return c.connection;
    };
    this.#recoverer = new Worker<RecoverJobData>(RECOVERY_QUEUE, (job) => this.#recover(job), { connection: connection(), prefix, concurrency: this.deps.concurrency, autorun: false});
    this.#sweeper = new Worker(SWEEP_QUEUE, () => this.#sweep(), { connection: connection(), prefix, concurrency: 1, autorun: false});
    for (const w of [this.#recoverer, this.#sweeper]) {
      w.on('error', onError('redis'));
      w.on('failed', (job, err) => onError(`job ${job?.name ?? ''} ${job?.id ?? ''}`)(err));
      w.run().catch(onError('worker loop'));
    }
    this.#scheduleEnsure();
  }

  /**
   * Stops taking jobs and lets in-flight ones finish for up to `timeoutMs`; the
   * rest are handed back (their lease in the log expires, the sweep re-enqueues them).
   */
  async close({ timeoutMs = 10_000 } = {}): Promise<void> {
    if (this.#ensureTimer) clearTimeout(this.#ensureTimer);
    this.#ensureTimer = null;
    const workers = [this.#recoverer, this.#sweeper].filter((w): w is Worker => w !== null);
    this.#recoverer = null;
    this.#sweeper = null;
    if (workers.length === 0) return;
    const graceful = Promise.all(workers.map((w) => w.close())).then(() => true, () => true);
    if (!(await settleWithin(graceful, timeoutMs, false))) {
      await settleWithin(Promise.all(workers.map((w) => w.close(true))).catch(() => {}), 2000, undefined);
    }
    await Promise.all(this.#releases.splice(0).map((release) => release()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #recover(job: Job<RecoverJobData>): Promise<TxStatus | null> {
    this.stats.jobs++;
    try {
      const status = await this.deps.recover(job.data.xid);
      if (status === null) this.stats.skipped++;
      else {
        this.stats.driven++;
        if (isFinal(status)) this.stats.finished++;
      }
      return status;
    } catch (err) {
      this.stats.failed++;
      throw err;
    }
  }

  async #sweep(): Promise<number> {
    this.stats.sweeps++;
    return this.deps.sweep(() => this.#recoverer !== null);
  }

  #scheduleEnsure(): void {
    this.#ensureTimer = setTimeout(() => {
      this.#ensureTimer = null;
      if (!this.#recoverer) return;
      // one call at a time: during a Redis outage the call waits for the reconnect
      if (!this.#ensuring) {
        this.#ensuring = true;
        this.deps
          .ensureSchedule()
          .then((recreated) => recreated && this.deps.onNotice?.('Redis had lost the sweep scheduler (flushed or restarted empty): recreated it'))
          .catch((err) => this.deps.onError?.('sweep scheduler', toError(err)))
          .finally(() => (this.#ensuring = false));
      }
      if (this.#recoverer) this.#scheduleEnsure();
    }, this.deps.ensureEveryMs);
    this.#ensureTimer.unref();
  }
}
