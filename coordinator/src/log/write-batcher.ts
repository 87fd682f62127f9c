import type { Knex } from 'knex';
import { DtxError, StoreUnavailableError, UnstorableValueError } from '../errors.js';
import { answerWithin, NoAnswerError } from './answer-within.js';
import { isDataError, isRetryableConflict } from './database.js';

/** One log write: statements run inside the batch's database transaction. */
export type WriteOp<T> = (trx: Knex.Transaction) => Promise<T>;

/**
 * A write whose concurrent instances can share statements: the instances of one
 * BatchableWrite in a batch run as one `many` call (multi-row statements), each on
 * its own as `one`. `many` handles only the expected case and throws
 * NotCoalesced on anything else (a duplicate key, a guard that did not hold for
 * every row); the batch is then rolled back and replayed with `one`.
 * Named `<transition>Write`, beside the transition it batches in log/transitions/.
 */
export interface BatchableWrite<I, T> {
  one(trx: Knex.Transaction, item: I): Promise<T>;
  many(trx: Knex.Transaction, items: I[]): Promise<T[]>;
}

/** Thrown by a BatchableWrite's `many` when its rows are not all the expected case. */
export class NotCoalesced extends Error {}

/**
 * Every statement of the batch ran and the COMMIT failed without the database saying it
 * did not commit (the connection dropped with the COMMIT sent): the batch may have
 * committed. Like no answer at all, its writes are not replayed, which would apply the
 * ones that are not idempotent (attempt counters, the attempt history) twice.
 */
class CommitOutcomeUnknown extends Error {
  constructor(cause: unknown) {
    super('the COMMIT of a log batch got no answer', { cause });
    this.name = 'CommitOutcomeUnknown';
  }
}

interface Pending {
  op: WriteOp<unknown>;
  /** Set when the write may share statements with the batch's other instances of its BatchableWrite. */
  shared?: { write: BatchableWrite<unknown, unknown>; item: unknown };
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
  /** Batches replayed one write at a time after an unexpected database error (metrics): no request should be able to cause one. */
  replays = 0;

  constructor(
    private readonly knex: Knex,
    options: WriteBatcherOptions = {},
  ) {
    this.#maxBatch = options.maxBatch ?? 256;
    this.#retries = options.conflictRetries ?? 5;
  }

  run<T>(op: WriteOp<T>): Promise<T> {
    return this.#enqueue({ op });
  }

  /** One instance of `write`, coalesced with the others of its kind in the same batch. */
  apply<I, T>(write: BatchableWrite<I, T>, item: I): Promise<T> {
    const w = write as BatchableWrite<unknown, unknown>;
    return this.#enqueue({ op: (trx) => write.one(trx, item), shared: { write: w, item } });
  }

  #enqueue<T>(write: Pick<Pending, 'op' | 'shared'>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ ...write, resolve: resolve as (v: unknown) => void, reject });
      if (this.#running) return;
      // start on the next turn, so every write issued in this one (the requests of one
      // network read) joins the first batch; once running, writes queue behind each commit
      this.#running = true;
      setImmediate(() => void this.#drain());
    });
  }

  /** Resolves once every queued write has settled. */
  async flushed(): Promise<void> {
    if (!this.#running && this.#queue.length === 0) return;
    await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  async #drain(): Promise<void> {
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
      settled = await this.#transaction(batch, true).catch((err) => {
        if (err instanceof NotCoalesced) return this.#transaction(batch, false);
        throw err;
      });
    } catch (err) {
      // one by one only finds a single bad write; a database that does not answer, or whose
      // COMMIT may have gone through, fails them all now
      if (batch.length > 1 && !(err instanceof NoAnswerError) && !(err instanceof CommitOutcomeUnknown)) {
        this.replays++;
        for (const p of batch) await this.#commit([p]);
        return;
      }
      for (const p of batch) p.reject(asAnswer(err));
      return;
    }
    batch.forEach((p, i) => {
      const s = settled[i]!;
      if (s.ok) p.resolve(s.value);
      else p.reject(s.error);
    });
  }

  async #transaction(batch: Pending[], coalesce: boolean): Promise<Settled[]> {
    for (let attempt = 1; ; attempt++) {
      let statementsRan = false;
      try {
        const settled = await answerWithin(this.knex.transaction(async (trx) => {
          const out: Settled[] = new Array(batch.length);
          const groups: Groups = coalesce ? groupByWrite(batch) : new Map();
          for (let i = 0; i < batch.length; i++) {
            if (out[i]) continue; // written with an earlier instance of its BatchableWrite
            const group = groups.get(batch[i]!.shared?.write);
            if (group) {
              const values = await group.write.many(trx, group.at.map((j) => batch[j]!.shared!.item));
              group.at.forEach((j, k) => (out[j] = { ok: true, value: values[k] }));
              continue;
            }
            try {
              out[i] = { ok: true, value: await batch[i]!.op(trx) };
            } catch (error) {
              if (!(error instanceof DtxError)) throw error;
              out[i] = { ok: false, error };
            }
          }
          statementsRan = true;
          return out;
        }));
        this.commits++;
        return settled;
      } catch (err) {
        // a conflict at COMMIT (a deadlock, Galera's certification failure) is a known rollback: retried below
        if (statementsRan && !isRetryableConflict(err)) throw new CommitOutcomeUnknown(err);
        if (!isRetryableConflict(err) || attempt >= this.#retries) throw err;
        await new Promise((r) => setTimeout(r, 5 * attempt * Math.random()));
      }
    }
  }
}

/** What a write that failed alone answers: its own refusal, a value the database refused (400), or the log unavailable (503). */
function asAnswer(err: unknown): DtxError {
  if (err instanceof DtxError) return err;
  return isDataError(err) ? new UnstorableValueError(err) : new StoreUnavailableError(err);
}

type Groups = Map<unknown, { write: BatchableWrite<unknown, unknown>; at: number[] }>;

/** The BatchableWrites with more than one instance in the batch, and where those instances stand. */
function groupByWrite(batch: Pending[]): Groups {
  const groups: Groups = new Map();
  batch.forEach((p, i) => {
    if (!p.shared) return;
    const g = groups.get(p.shared.write) ?? { write: p.shared.write, at: [] };
    g.at.push(i);
    groups.set(p.shared.write, g);
  });
  for (const [k, g] of groups) if (g.at.length < 2) groups.delete(k);
  return groups;
}
