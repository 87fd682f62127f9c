import type { Phase } from '@dtx/protocol';
import { ensureBarrierTable, knexFromUrl, runInBarrier } from '@dtx/participant-sdk';
import type { Knex } from 'knex';
import { afterEach, describe, expect, it } from 'vitest';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';
import { newXid } from './support/callbacks.js';

const kinds = await storeKinds(['sqlite', 'mysql', 'postgres']);

/**
 * The barrier's own statements in one phase's local transaction, BEGIN and COMMIT (or
 * ROLLBACK) left out, with a business step that sends none. The bench README's figures
 * for `bank` rest on these; a change to the barrier that adds a round trip shows here.
 */
const EXPECTED: Record<'sqlite' | 'mysql' | 'postgres', Record<string, number>> = {
  // insert-or-lock the try row, then insert the phase's row unless the other phase's exists
  mysql: { tryWithResult: 2, tryWithoutResult: 1, repeatedTry: 2, confirm: 2, repeatedConfirm: 3, cancel: 2, emptyRollback: 2, repeatedCancel: 3, confirmWithoutTry: 1, confirmAfterCancel: 3, tryAfterCancel: 2 },
  postgres: { tryWithResult: 2, tryWithoutResult: 1, repeatedTry: 2, confirm: 2, repeatedConfirm: 3, cancel: 2, emptyRollback: 2, repeatedCancel: 3, confirmWithoutTry: 1, confirmAfterCancel: 3, tryAfterCancel: 2 },
  // one writer at a time: confirm is one statement
  sqlite: { tryWithResult: 2, tryWithoutResult: 1, repeatedTry: 2, confirm: 1, repeatedConfirm: 2, cancel: 2, emptyRollback: 2, repeatedCancel: 3, confirmWithoutTry: 2, confirmAfterCancel: 2, tryAfterCancel: 2 },
};

describe.each(kinds)('barrier on %s: statements per phase', (kind) => {
  let db: FreshDatabase | undefined;
  let knex: Knex | undefined;
  afterEach(async () => {
    await knex?.destroy();
    await db?.drop();
  });

  it('sends the pinned number of statements in each phase, the hot paths included', async () => {
    db = await freshDatabase(kind, 'statements');
    knex = knexFromUrl(db.url, { poolMax: 2 });
    await ensureBarrierTable(knex);
    // knex tags every statement of a transaction with its id; BEGIN / COMMIT / ROLLBACK are its own.
    const perTransaction = new Map<string, number>();
    knex.on('query', (q: { sql: string; __knexTxId?: string }) => {
      if (q.__knexTxId === undefined || /^(BEGIN|COMMIT|ROLLBACK)\b/i.test(q.sql.trim())) return;
      perTransaction.set(q.__knexTxId, (perTransaction.get(q.__knexTxId) ?? 0) + 1);
    });
    const db_ = knex;
    /** Runs one phase with a business step that sends nothing; the statements its transaction(s) sent. */
    const count = async (xid: string, phase: Phase, result?: unknown): Promise<number> => {
      perTransaction.clear();
      await runInBarrier(db_, { xid, branchId: 'b' }, phase, async () => result).catch(() => undefined);
      expect(perTransaction.size).toBe(1);
      return [...perTransaction.values()][0]!;
    };

    const seen: Record<string, number> = {};
    const tried = newXid();
    seen.tryWithResult = await count(tried, 'try', { frozen: 30 });
    seen.repeatedTry = await count(tried, 'try', { frozen: 30 });
    seen.confirm = await count(tried, 'confirm');
    seen.repeatedConfirm = await count(tried, 'confirm');
    seen.tryWithoutResult = await count(newXid(), 'try');
    const cancelled = newXid();
    await count(cancelled, 'try');
    seen.cancel = await count(cancelled, 'cancel');
    seen.repeatedCancel = await count(cancelled, 'cancel');
    seen.confirmAfterCancel = await count(cancelled, 'confirm');
    seen.confirmWithoutTry = await count(newXid(), 'confirm');
    const overtaken = newXid();
    seen.emptyRollback = await count(overtaken, 'cancel');
    seen.tryAfterCancel = await count(overtaken, 'try');

    expect(seen).toEqual(EXPECTED[kind]);
  });
});
