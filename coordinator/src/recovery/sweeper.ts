import { toError } from '../errors.js';

export interface SweeperDeps {
  /** Due xids, oldest first. */
  findDue(limit: number): Promise<string[]>;
  /** Claims and drives one transaction. */
  recover(xid: string): Promise<unknown>;
  intervalMs: number;
  /** Most transactions driven at once. @default 32 */
  concurrency?: number;
  /** Most due transactions one sweep takes. @default 1000 */
  batchSize?: number;
  onError?(err: Error): void;
}

/**
 * In-process recovery: find due transactions by index and drive them,
 * `concurrency` at a time. While sweeps find full batches (a backlog, e.g. after
 * a participant outage) the next sweep starts as soon as the lanes run low, with
 * no wait; the interval only follows a sweep that found less than a full batch,
 * or an error. Claiming happens in `recover` (a guarded update), so any number
 * of sweepers on one database never drive the same transaction at once.
 */
export class Sweeper {
  /** Sweeps run so far (each one findDue). */
  sweeps = 0;
  readonly #concurrency: number;
  readonly #batchSize: number;
  /** Found, not yet started. */
  readonly #queue: string[] = [];
  /** Queued or being driven: a sweep that finds them again leaves them be. */
  readonly #held = new Set<string>();
  readonly #driving = new Set<Promise<void>>();
  #failed = false;
  #stopped = true;
  #loop: Promise<void> | null = null;
  /** The loop's one wait: called on every change it may be waiting for. */
  #wake: (() => void) | null = null;

  constructor(private readonly deps: SweeperDeps) {
    this.#concurrency = deps.concurrency ?? 32;
    this.#batchSize = deps.batchSize ?? 1000;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#loop = this.#run();
  }

  /** Stops sweeping at once: the queued rest stays due in the log; waits only for the transactions being driven. */
  async close(): Promise<void> {
    this.#stopped = true;
    for (const xid of this.#queue.splice(0)) this.#held.delete(xid);
    this.#wake?.();
    await this.#loop;
    await Promise.all(this.#driving);
    this.#loop = null;
  }

  async #run(): Promise<void> {
    await this.#wait(() => false, this.deps.intervalMs);
    while (!this.#stopped) {
      let full = false;
      try {
        full = await this.#sweep();
      } catch (err) {
        this.deps.onError?.(toError(err));
      }
      if (!full) await this.#wait(() => false, this.deps.intervalMs);
    }
  }

  /**
   * One findDue; the lanes take what it found. Resolves once they have taken all
   * but one round of it, so the next sweep's findDue runs while they finish; true
   * when the batch was full of new work and nothing failed (sweep again now).
   */
  async #sweep(): Promise<boolean> {
    this.sweeps++;
    this.#failed = false;
    const xids = await this.deps.findDue(this.#batchSize);
    let fresh = 0;
    for (const xid of xids) {
      if (this.#stopped || this.#held.has(xid)) continue;
      this.#held.add(xid);
      this.#queue.push(xid);
      fresh++;
    }
    this.#pump();
    await this.#wait(() => this.#queue.length <= this.#concurrency);
    return fresh > 0 && xids.length >= this.#batchSize && !this.#failed;
  }

  #pump(): void {
    while (this.#driving.size < this.#concurrency && this.#queue.length > 0 && !this.#stopped) {
      const xid = this.#queue.shift()!;
      const p: Promise<void> = this.#drive(xid).finally(() => {
        this.#held.delete(xid);
        this.#driving.delete(p);
        this.#pump();
        this.#wake?.();
      });
      this.#driving.add(p);
    }
  }

  async #drive(xid: string): Promise<void> {
    try {
      await this.deps.recover(xid);
    } catch (err) {
      this.#failed = true;
      this.deps.onError?.(toError(err));
    }
  }

  /** Until `done()` holds, `ms` pass, or the sweeper stops. */
  #wait(done: () => boolean, ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => finish(), ms);
      timer?.unref();
      const finish = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
      const check = () => {
        if (this.#stopped || done()) finish();
      };
      this.#wake = check;
      check();
    });
  }
}
