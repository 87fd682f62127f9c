import type { Knex } from 'knex';
import { StoreUnavailableError } from '../errors.js';
import { answerWithin } from './answer-within.js';
import { openDatabase, type Database } from './database.js';
import { migrate } from './migrate.js';
import { WriteBatcher, type BatchableWrite, type WriteOp } from './write-batcher.js';

/**
 * The durable log: writes go through group commit, reads straight to the database.
 * The statements themselves live in transitions/ (one per state change) and queries/.
 */
export class TransactionLog {
  readonly batcher: WriteBatcher;

  private constructor(readonly database: Database) {
    this.batcher = new WriteBatcher(database.knex);
  }

  static async open(url: string, options: { migrate?: boolean } = {}): Promise<TransactionLog> {
    const database = await openDatabase(url);
    try {
      if (options.migrate !== false) await migrate(database);
    } catch (err) {
      await database.knex.destroy();
      throw err;
    }
    return new TransactionLog(database);
  }

  get knex(): Knex {
    return this.database.knex;
  }

  write<T>(op: WriteOp<T>): Promise<T> {
    return this.batcher.run(op);
  }

  /** A write that shares its statements with the concurrent instances of the same BatchableWrite. */
  apply<I, T>(write: BatchableWrite<I, T>, item: I): Promise<T> {
    return this.batcher.apply(write, item);
  }

  /** A read; a database failure becomes STORE_UNAVAILABLE. */
  async read<T>(query: (db: Knex) => Promise<T>): Promise<T> {
    try {
      return await answerWithin(query(this.database.knex));
    } catch (err) {
      throw new StoreUnavailableError(err);
    }
  }

  async ping(): Promise<void> {
    await answerWithin(this.database.knex.raw('select 1').then(() => undefined));
  }

  async close(): Promise<void> {
    await this.batcher.flushed();
    await this.database.knex.destroy();
  }
}
