import type { Knex } from 'knex';
import { setTimeout as sleep } from 'node:timers/promises';
import type { XaId } from './xa-id.js';
import { branchStatements, untilBranchDetached } from './xa-statements.js';

/** The parts of knex's Transaction this module replaces; knex has no public hook for them. */
interface KnexTransactionInternals {
  trxClient: { query(conn: unknown, sql: string): Promise<unknown> };
  begin(conn: unknown): Promise<unknown>;
  commit(conn: unknown, value: unknown): Promise<unknown>;
  rollback(conn: unknown, err: unknown): Promise<unknown>;
  _completed: boolean;
  _resolver(value: unknown): void;
  _rejecter(err: unknown): void;
}

interface KnexClientInternals {
  acquireRawConnection(): Promise<unknown>;
  destroyRawConnection(conn: unknown): Promise<void>;
  query(conn: unknown, sql: string): Promise<unknown>;
  transaction(container: (trx: Knex.Transaction) => Promise<unknown>, config: object): KnexTransactionInternals & Promise<unknown>;
}

/**
 * Runs `body` as one XA branch: its start (`XA START`; PostgreSQL `BEGIN`), body's
 * statements in `trx`, then its prepare (`XA END`, `XA PREPARE`; `PREPARE TRANSACTION`),
 * or its rollback when body throws (its error is rethrown) or answers `prepare: false`
 * (a try that found it must not run). `trx` is an ordinary knex transaction object whose
 * BEGIN / COMMIT / ROLLBACK are replaced by those statements (xa-statements.ts), so
 * business code writes the same knex it writes in a TCC action.
 *
 * The branch gets a connection of its own, outside the pool, closed afterwards: on
 * MariaDB the session that prepared a branch can run nothing else until phase 2, and
 * closing it detaches the prepared branch (MariaDB ≥ 10.5, MySQL ≥ 5.7.7), which any
 * connection can then commit or roll back; PostgreSQL detaches it at PREPARE. A
 * connection lost before PREPARE takes its branch with it (the server rolls back an
 * unprepared branch of a closed session). A prepared try answers only once the server
 * has detached its branch (untilBranchDetached).
 */
export async function prepareXaBranch<R>(
  knex: Knex,
  id: XaId,
  lockWaitSeconds: number,
  body: (trx: Knex.Transaction) => Promise<{ prepare: boolean; value: R }>,
): Promise<R> {
  const client = knex.client as unknown as KnexClientInternals;
  const conn = await client.acquireRawConnection();
  const st = branchStatements(knex, id, lockWaitSeconds);
  let open = true;
  // Once, and never waiting long: a connection the server already dropped may never answer a polite end.
  const hangUp = async (): Promise<void> => {
    if (!open) return;
    open = false;
    const ended = client.destroyRawConnection(conn).catch(() => undefined);
    if ((await Promise.race([ended.then(() => true), sleep(2000).then(() => false)])) === false) (conn as { destroy?(): void }).destroy?.();
  };
  try {
    // A short wait on locks: the rows a try needs may be held by a prepared branch until its phase 2.
    await client.query(conn, st.setup);
    let result: { prepare: boolean; value: R } | undefined;
    const tx = client.transaction(async (trx) => {
      result = await body(trx);
    }, { connection: conn, doNotRejectOnRollback: false });
    tx.begin = (c) => tx.trxClient.query(c, st.start);
    tx.rollback = async (c, err) => {
      for (const sql of st.rollback) await tx.trxClient.query(c, sql).catch(() => undefined);
      tx._completed = true;
      tx._rejecter(err ?? new Error(`XA branch ${id.gtrid} ${id.bqual} rolled back`));
    };
    tx.commit = async (c, value) => {
      try {
        for (const sql of result?.prepare ? st.prepare : st.rollback) await tx.trxClient.query(c, sql);
      } catch (err) {
        return tx.rollback(c, err);
      }
      tx._completed = true;
      tx._resolver(value);
    };
    await tx;
    if (result?.prepare) {
      await hangUp();
      await untilBranchDetached(knex, conn);
    }
    return result!.value;
  } finally {
    await hangUp();
  }
}
