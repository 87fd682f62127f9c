import { ensureBarrierTable, knexFromUrl, participantPlugin } from '@dtx/participant-sdk';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureAccountsTable } from '../../examples/bank/src/accounts-table.js';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';
import { newXid } from './support/callbacks.js';
import { SlowWallet } from './support/slow-wallet.js';

const kinds = await storeKinds(['sqlite', 'mysql', 'postgres']);
const ROUNDS = 60;

// The coordinator never sends both, but a raw caller (or a confused operator) may, at once.
describe.each(kinds)('barrier on %s: confirm and cancel racing on one tried branch', (kind) => {
  let db: FreshDatabase | undefined;
  let knex: Knex | undefined;
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    await knex?.destroy();
    await db?.drop();
    app = undefined;
  });

  it(`exactly one of them applies, the other is refused with 409 (${ROUNDS} rounds)`, async () => {
    db = await freshDatabase(kind, 'race');
    knex = knexFromUrl(db.url, { poolMax: 8 });
    await ensureBarrierTable(knex);
    await ensureAccountsTable(knex);
    // Another transaction's reservation: a phase 2 applied twice would eat into it.
    await knex('accounts').insert({ id: 'alice', balance: 1000 * ROUNDS, frozen: 500, incoming: 0 });
    app = Fastify();
    await app.register(participantPlugin, { knex, participants: [new SlowWallet()] });
    await app.ready();
    const server = app;
    const wins = { confirm: 0, cancel: 0 };
    let confirmed = 0;

    for (let round = 0; round < ROUNDS; round++) {
      const body = { xid: newXid(), branchId: 'debit', payload: { account: 'alice', amount: 30 } };
      const send = async (phase: 'try' | 'confirm' | 'cancel', delayMs = 0) => {
        await sleep(delayMs);
        const res = await server.inject({ method: 'POST', url: `/dtx/wallet.debit/${phase}`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ ...body, phase }) });
        return { phase, status: res.statusCode, barrier: res.headers['dtx-barrier'], code: res.statusCode === 409 ? (res.json() as { error: { code: string } }).error.code : undefined };
      };
      expect((await send('try')).status).toBe(200);
      // Two of each, so a duplicate of the winner and a refused loser can both show up.
      const confirmFirst = round % 2 === 0;
      const answers = await Promise.all([
        send('confirm', confirmFirst ? 0 : Math.random() * 3),
        send('cancel', confirmFirst ? Math.random() * 3 : 0),
        send('confirm', Math.random() * 3),
        send('cancel', Math.random() * 3),
      ]);

      const confirmRan = answers.some((a) => a.phase === 'confirm' && a.barrier === 'ran');
      const cancelRan = answers.some((a) => a.phase === 'cancel' && a.barrier === 'ran');
      if (confirmRan && !cancelRan) confirmed++;
      const alice = await knex('accounts').where('id', 'alice').first();
      expect({ round, balance: Number(alice.balance), frozen: Number(alice.frozen) }).toEqual({ round, balance: 1000 * ROUNDS - 30 * confirmed, frozen: 500 });

      const ran = answers.filter((a) => a.status === 204 && a.barrier === 'ran');
      expect({ round, ran: ran.length }).toEqual({ round, ran: 1 });
      const winner = ran[0]!.phase as 'confirm' | 'cancel';
      wins[winner]++;
      for (const a of answers) {
        if (a.phase === winner) expect({ round, ...a }).toMatchObject({ status: 204, barrier: expect.stringMatching(/^(ran|duplicate)$/) });
        else expect({ round, ...a }).toMatchObject({ status: 409, code: 'PHASE_CONFLICT' });
      }

    }
    // Both sides won sometimes, so the race was real rather than always won by one side.
    expect(wins.confirm).toBeGreaterThan(0);
    expect(wins.cancel).toBeGreaterThan(0);
  });
});
