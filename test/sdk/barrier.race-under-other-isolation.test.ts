import type { CallbackBody, Phase } from '@dtx/protocol';
import { ActionTable, ensureBarrierTable, PhaseConflictError, type BarrierOutcome } from '@dtx/participant-sdk';
import knexFactory, { type Knex } from 'knex';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureAccountsTable } from '../../examples/bank/src/accounts-table.js';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';
import { newXid } from './support/callbacks.js';
import { SlowWallet } from './support/slow-wallet.js';

const servers = (await storeKinds(['mysql', 'postgres'])).filter((k): k is 'mysql' | 'postgres' => k !== 'sqlite');
const ROUNDS = 40;

/**
 * The barrier does not choose the isolation level: the participant's knex does. The
 * other race tests run at the servers' defaults (MySQL REPEATABLE READ, PostgreSQL READ
 * COMMITTED); these run confirm and cancel against each other at the other common level
 * of each, where the reads behind "insert unless the other phase's row exists" behave
 * differently (a consistent read on MySQL; a snapshot fixed at the first statement on
 * PostgreSQL).
 */
const OTHER_LEVEL = {
  mysql: { name: 'READ COMMITTED', sql: 'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED' },
  postgres: { name: 'REPEATABLE READ', sql: 'SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ' },
};

describe.each(servers)('barrier on %s at its other isolation level: confirm and cancel racing', (kind) => {
  let db: FreshDatabase | undefined;
  let knex: Knex | undefined;
  afterEach(async () => {
    await knex?.destroy();
    await db?.drop();
  });

  it(`exactly one of them applies, the other is refused (${OTHER_LEVEL[kind].name}, ${ROUNDS} rounds)`, async () => {
    db = await freshDatabase(kind, 'race_iso');
    const level = OTHER_LEVEL[kind].sql;
    knex = knexFactory({
      client: kind === 'mysql' ? 'mysql2' : 'pg',
      connection: db.url,
      pool: {
        min: 0,
        max: 8,
        afterCreate: (conn: { query(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) =>
          conn.query(level, (err) => done(err, conn)),
      },
    });
    await ensureBarrierTable(knex);
    await ensureAccountsTable(knex);
    await knex('accounts').insert({ id: 'alice', balance: 1000 * ROUNDS, frozen: 500, incoming: 0 });
    const shown = (await knex.raw(kind === 'mysql' ? 'SELECT @@tx_isolation AS level' : 'SHOW transaction_isolation')) as unknown;
    expect(JSON.stringify(shown).toUpperCase().replace(/[-_]/g, ' ')).toContain(OTHER_LEVEL[kind].name);
    const table = new ActionTable(knex, [new SlowWallet()]);
    const wins = { confirm: 0, cancel: 0 };
    let confirmed = 0;

    for (let round = 0; round < ROUNDS; round++) {
      const xid = newXid();
      const send = async (phase: Phase, delayMs = 0): Promise<{ phase: Phase; out: BarrierOutcome<unknown> | Error }> => {
        await sleep(delayMs);
        const body: CallbackBody = { xid, branchId: 'debit', phase, payload: { account: 'alice', amount: 30 } };
        return { phase, out: await table.handle({ action: 'wallet.debit', body, attempt: 1 }).catch((err: Error) => err) };
      };
      expect((await send('try')).out).toMatchObject({ kind: 'ran' });
      const confirmFirst = round % 2 === 0;
      const answers = await Promise.all([
        send('confirm', confirmFirst ? 0 : Math.random() * 3),
        send('cancel', confirmFirst ? Math.random() * 3 : 0),
        send('confirm', Math.random() * 3),
        send('cancel', Math.random() * 3),
      ]);
      const ran = answers.filter((a) => !(a.out instanceof Error) && a.out.kind === 'ran');
      expect({ round, ran: ran.length }).toEqual({ round, ran: 1 });
      const winner = ran[0]!.phase;
      wins[winner as 'confirm' | 'cancel']++;
      if (winner === 'confirm') confirmed++;
      for (const a of answers) {
        if (a.phase === winner) expect({ round, kind: (a.out as BarrierOutcome<unknown>).kind }).toMatchObject({ round, kind: expect.stringMatching(/^(ran|duplicate)$/) });
        else expect({ round, refused: a.out instanceof PhaseConflictError }).toEqual({ round, refused: true });
      }
      const alice = await knex('accounts').where('id', 'alice').first();
      expect({ round, balance: Number(alice.balance), frozen: Number(alice.frozen) }).toEqual({ round, balance: 1000 * ROUNDS - 30 * confirmed, frozen: 500 });
    }
    expect(wins.confirm).toBeGreaterThan(0);
    expect(wins.cancel).toBeGreaterThan(0);
  });
});
