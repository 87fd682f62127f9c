import type { Knex } from 'knex';
import { DtxError, StoreUnavailableError } from '../errors.js';
import { isRetryableConflict } from './database.js';

/** One log write: statements run inside the batch's database transaction. */
export type WriteOp<T> = (trx: Knex.Transaction) => Promise<T>;

interface Pending {
  op: WriteOp<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface WriteBatcherOptions {
  /** Most operations in one database transaction. @default 256 */
  maxBatch?: number;
  /** Attempts of a batch that meets a deadlock. @default 5 */
  conflictRetries?: number;
}

/**
 * Group commit. Writes that arrive while a batch is being committed wait and go
 * together into the next database transaction, so N concurrent writes cost one
 * commit (one fsync), not N. A caller's promise settles only after its batch is
 * durable. An operation that throws a DtxError (a refused request) does not
 * disturb the others; an unexpected database error re-runs the batch one
 * operation per transaction so a single bad write cannot fail its neighbours.
 */
export class WriteBatcher {
  #queue: Pending[] = [];
  #running = false;
  #idle: (() => void)[] = [];
  readonly #maxBatch: number;
  readonly #retries: number;
  /** Commits made, for metrics and the benchmark. */
  commits = 0;

  constructor(
    private readonly knex: Knex,
    options: WriteBatcherOptions = {},
  ) {
    this.#maxBatch = options.maxBatch ?? 256;
    this.#retries = options.conflictRetries ?? 5;
  }

  run<T>(op: WriteOp<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ op, resolve: resolve as (v: unknown) => void, reject });
      if (!this.#running) void this.#drain();
    });
  }

  /** Resolves once every queued write has settled. */
  async flushed(): Promise<void> {
    if (!this.#running && this.#queue.length === 0) return;
    await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch);
        await this.#commit(batch);
      }
    } finally {
      this.#running = false;
      for (const f of this.#idle.splice(0)) f();
    }
  }

  async #commit(batch: Pending[]): Promise<void> {
    let settled: Settled[];
    try {
      settled = await this.#transaction(batch);
    } catch (err) {
      if (batch.length > 1) {
        for (const p of batch) await this.#commit([p]);
        return;
      }
      batch[0]!.reject(err instanceof DtxError ? err : new StoreUnavailableError(err));
      return;
    }
    batch.forEach((p, i) => {
      const s = settled[i]!;
      if (s.ok) p.resolve(s.value);
      else p.reject(s.error);
    });
  }

  async #transaction(batch: Pending[]): Promise<Settled[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        const settled = await this.knex.transaction(async (trx) => {
          const out: Settled[] = [];
          for (const p of batch) {
            try {
              out.push({ ok: true, value: await p.op(trx) });
            } catch (error) {
              if (!(error instanceof DtxError)) throw error;
              out.push({ ok: false, error });
            }
          }
          return out;
        });
        this.commits++;
        return settled;
      } catch (err) {
        if (!isRetryableConflict(err) || attempt >= this.#retries) throw err;
        await new Promise((r) => setTimeout(r, 5 * attempt * Math.random()));
      }
    }
  }
}
