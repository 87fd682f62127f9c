import type { CallbackBody, Phase } from '@dtx/protocol';
import { ActionTable, ensureBarrierTable, knexFromUrl, TrySuspendedError, type BarrierOutcome } from '@dtx/participant-sdk';
import type { Knex } from 'knex';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureAccountsTable } from '../../examples/bank/src/accounts-table.js';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';
import { newXid } from './support/callbacks.js';
import { SlowWallet } from './support/slow-wallet.js';

const kinds = await storeKinds(['sqlite', 'mysql', 'postgres']);
const ROUNDS = 60;

describe.each(kinds)('barrier on %s: try and cancel racing on one branch', (kind) => {
  let db: FreshDatabase | undefined;
  let knex: Knex | undefined;
  afterEach(async () => {
    await knex?.destroy();
    await db?.drop();
  });

  it(`never leaves a reservation behind and never deadlocks (${ROUNDS} rounds)`, async () => {
    db = await freshDatabase(kind, 'race');
    knex = knexFromUrl(db.url, { poolMax: 8 });
    await ensureBarrierTable(knex);
    await ensureAccountsTable(knex);
    await knex('accounts').insert({ id: 'alice', balance: 1000, frozen: 0, incoming: 0 });
    const table = new ActionTable(knex, [new SlowWallet()]);
    const seen = { tryThenCancel: 0, suspended: 0 };

    for (let round = 0; round < ROUNDS; round++) {
      const xid = newXid();
      const send = async (phase: Phase, delayMs: number): Promise<BarrierOutcome<unknown> | Error> => {
        await sleep(delayMs);
        const body: CallbackBody = { xid, branchId: 'debit', phase, payload: { account: 'alice', amount: 30 } };
        return table.handle({ action: 'wallet.debit', body, attempt: 1 }).catch((err: Error) => err);
      };
      // Alternate which side starts a little earlier, so both orders are exercised.
      const tryFirst = round % 2 === 0;
      const [try1, cancel1, try2, cancel2] = await Promise.all([
        send('try', tryFirst ? 0 : Math.random() * 3),
        send('cancel', tryFirst ? Math.random() * 3 : 0),
        send('try', Math.random() * 3),
        send('cancel', Math.random() * 3),
      ]);

      for (const t of [try1, try2]) {
        if (t instanceof Error) expect(t).toBeInstanceOf(TrySuspendedError);
        else expect(['ran', 'duplicate']).toContain(t.kind);
      }
      for (const c of [cancel1, cancel2]) {
        expect(c).not.toBeInstanceOf(Error);
        expect(['ran', 'empty_rollback', 'duplicate']).toContain((c as BarrierOutcome<unknown>).kind);
      }
      const tryRan = [try1, try2].some((t) => !(t instanceof Error) && t.kind === 'ran');
      const cancelRan = [cancel1, cancel2].some((c) => !(c instanceof Error) && c.kind === 'ran');
      // The business cancel runs exactly when the business try ran.
      expect(cancelRan).toBe(tryRan);
      if (tryRan) seen.tryThenCancel++;
      else seen.suspended++;

      const alice = await knex('accounts').where('id', 'alice').first();
      expect({ round, balance: Number(alice.balance), frozen: Number(alice.frozen) }).toEqual({ round, balance: 1000, frozen: 0 });
    }
    // Both orders happened, so the race was real rather than always won by one side.
    expect(seen.tryThenCancel).toBeGreaterThan(0);
    expect(seen.suspended).toBeGreaterThan(0);
  });
});
