import type { Knex } from 'knex';
import type { BarrierKey } from '../barrier/insert-barrier-row.js';
import { FmtUnsupportedStatementError } from '../errors.js';
import { classifyBuilder, classifyRaw, type BuilderState } from './classify-statement.js';
import { checkInsertedFree, checkRowsFree } from './local-write.js';
import type { WriteBuilder } from './probe-select.js';
import { recordWrite } from './record-write.js';
import { fmtDialectOf, type FmtSql } from './sql-rows.js';
import type { UndoRecord } from './undo-record.js';

/** The parts of knex's per-transaction client the gate replaces (knex 3.x, lib/execution). */
interface TxClient {
  runner(builder: unknown): { run(): Promise<unknown>; stream?: unknown; pipe?: unknown };
  raw(sql: string, bindings?: readonly unknown[]): unknown;
}

export interface Gate {
  /** Where FMT's own statements go: the transaction, past the gate. */
  db: FmtSql;
  /** The undo records of the writes so far, in order. */
  records(): UndoRecord[];
  /** Throws the first refusal even if the business code caught it, so a refused try never commits. */
  check(): void;
  /** Takes the gate off: the barrier's own statements after the business step run as they are. */
  remove(): void;
}

/** `branch`: an FMT try (images, locks, undo). `local`: a withGlobalLock transaction (checks only). */
export type GateOptions = { mode: 'branch'; key: BarrierKey; maxRowsPerStatement: number } | { mode: 'local' };

const xidOf = (opts: GateOptions) => (opts.mode === 'branch' ? opts.key.xid : null);

/**
 * Puts every statement of `trx` through FMT: reads pass, builder writes run with their
 * images and locks (one at a time, in the order they were issued), locking reads are
 * checked against global locks, and everything else is refused before it runs. FMT's own
 * statements go to the transaction's original runner, past the gate.
 */
export function installGate(trx: Knex.Transaction, opts: GateOptions): Gate {
  const client = trx.client as unknown as TxClient;
  const original = client.runner.bind(client);
  const db: FmtSql = {
    dialect: fmtDialectOf(trx),
    raw: (sql, bindings = []) => original(trx.raw(sql, bindings as Knex.RawBinding[])).run(),
    cacheKey: (trx.client as { config: object }).config,
  };
  const records: UndoRecord[] = [];
  let refusal: Error | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const refuse = (statement: string, why: string) => {
    refusal ??= new FmtUnsupportedStatementError(statement, why);
    return refusal;
  };

  client.runner = (builder: unknown) => {
    const inner = original(builder);
    const describe = () => describeStatement(builder);
    const isRaw = (builder as { isRawInstance?: boolean }).isRawInstance === true;
    const isQuery = typeof (builder as BuilderState)._method === 'string' && !isRaw;
    const classified = isRaw ? classifyRaw(String((builder as { sql?: unknown }).sql ?? '')) : isQuery ? classifyBuilder(builder as BuilderState) : { kind: 'refused' as const, why: 'schema changes cannot be undone' };
    const refusedStream = () => {
      throw refuse(describe(), 'streaming is not supported in an FMT try');
    };
    const gated = Object.create(inner) as typeof inner;
    if (classified.kind !== 'read') Object.assign(gated, { stream: refusedStream, pipe: refusedStream });
    gated.run = () => {
      if (classified.kind === 'read') return inner.run();
      if (classified.kind === 'refused') return Promise.reject(refuse(describe(), classified.why));
      // One managed statement at a time: each write's images must not interleave with another's.
      const next = queue.then(async () => {
        if (classified.kind === 'locking-read') {
          const result = await inner.run();
          await checkRowsFree(db, xidOf(opts), builder as WriteBuilder, classified.table, describe());
          return result;
        }
        const b = builder as WriteBuilder;
        if (opts.mode === 'local') {
          if (classified.method !== 'insert') await checkRowsFree(db, null, b, classified.table, describe());
          const result = await inner.run();
          if (classified.method === 'insert') await checkInsertedFree(db, b, classified.table);
          return result;
        }
        const ctx = { db, key: opts.key, seq: records.length + 1, maxRowsPerStatement: opts.maxRowsPerStatement, describe: describe() };
        const { result, record } = await recordWrite(ctx, b, classified.table, () => inner.run());
        records.push(record);
        return result;
      });
      queue = next.catch(() => undefined);
      return next;
    };
    return gated;
  };
  const blockNested = () => {
    throw refuse('a nested transaction (trx.transaction / savepoint)', 'nested transactions would escape FMT and roll back part of its images');
  };
  const nesting = ['transaction', 'savepoint'].map((name) => [name, Object.getOwnPropertyDescriptor(trx, name)] as const);
  for (const [name] of nesting) Object.defineProperty(trx, name, { value: blockNested, configurable: true, writable: true });
  return {
    db,
    records: () => records,
    check: () => {
      if (refusal) throw refusal;
    },
    remove: () => {
      client.runner = original;
      for (const [name, desc] of nesting) {
        if (desc) Object.defineProperty(trx, name, desc);
        else delete (trx as unknown as Record<string, unknown>)[name];
      }
    },
  };
}

function describeStatement(builder: unknown): string {
  try {
    const sql = (builder as { toString(): string }).toString();
    return sql.length > 300 ? `${sql.slice(0, 300)}…` : sql;
  } catch {
    return '(a statement knex could not print)';
  }
}
