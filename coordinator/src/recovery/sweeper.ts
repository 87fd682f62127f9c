import { toError } from '../errors.js';

export interface SweeperDeps {
  /** Due xids, oldest first. */
  findDue(limit: number): Promise<string[]>;
  /** Claims and drives one transaction. */
  recover(xid: string): Promise<unknown>;
  intervalMs: number;
  /** Most transactions driven at once. @default 16 */
  concurrency?: number;
  onError?(err: Error): void;
}

/**
 * In-process recovery: every interval, find due transactions by index and drive
 * them. Claiming happens in `recover` (a guarded update), so any number of
 * sweepers on one database never drive the same transaction at once.
 */
export class Sweeper {
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #stopped = true;
  #closing = false;
  readonly #inFlight = new Set<string>();

  constructor(private readonly deps: SweeperDeps) {}

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule();
  }

  /** One sweep now; resolves when the transactions it found have been driven. */
  async sweepOnce(): Promise<number> {
    const concurrency = this.deps.concurrency ?? 16;
    const xids = (await this.deps.findDue(concurrency * 4)).filter((x) => !this.#inFlight.has(x));
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < xids.length && !this.#closing) {
        const xid = xids[next++]!;
        this.#inFlight.add(xid);
        try {
          await this.deps.recover(xid);
        } catch (err) {
          this.deps.onError?.(toError(err));
        } finally {
          this.#inFlight.delete(xid);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, xids.length) }, lane));
    return xids.length;
  }

  async close(): Promise<void> {
    this.#stopped = true;
    this.#closing = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#running = this.sweepOnce()
        .then(() => undefined, (err) => this.deps.onError?.(toError(err)))
        .finally(() => {
          this.#running = null;
          this.#schedule();
        });
    }, this.deps.intervalMs);
    this.#timer.unref();
  }
}
