import { toError } from '../errors.js';
import type { TransactionLog } from './transaction-log.js';
import { pruneFinished } from './transitions/pruneFinished.js';

export interface PrunerDeps {
  log: TransactionLog;
  /** Finished transactions created longer ago than this are deleted. */
  retentionMs: number;
  /** @default 60000 */
  intervalMs?: number;
  /** Transactions one log write deletes. @default 500 */
  batch?: number;
  now?: () => number;
  onError?(err: Error): void;
}

/**
 * Retention (DESIGN.md): every interval, deletes the finished transactions (and their
 * branches) created more than `retentionMs` ago, a batch per log write until none is
 * left, so the log's tables stay small. Never an unfinished one. Any number of
 * coordinators may prune one log: a row is deleted once whoever gets to it first.
 */
export class Pruner {
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<unknown> | null = null;

  constructor(private readonly deps: PrunerDeps) {}

  start(): void {
    this.#timer = setTimeout(() => {
      this.#running = this.pruneOnce()
        .catch((err) => this.deps.onError?.(toError(err)))
        .finally(() => {
          this.#running = null;
          if (this.#timer) this.start();
        });
    }, this.deps.intervalMs ?? 60_000);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  /** Deletes every transaction due for deletion now; how many. */
  async pruneOnce(): Promise<number> {
    const batch = this.deps.batch ?? 500;
    const createdBefore = (this.deps.now ?? Date.now)() - this.deps.retentionMs;
    let deleted = 0;
    for (;;) {
      const n = await this.deps.log.write((trx) => pruneFinished(trx, createdBefore, batch));
      deleted += n;
      if (n < batch) return deleted;
    }
  }
}
