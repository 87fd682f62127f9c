import { ensureBarrierTable, knexFromUrl, Participant, participantPlugin, TccAction, type TccContext } from '@dtx/participant-sdk';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { isLockConflict } from '../../participant-sdk/src/barrier/retry-lock-conflicts.js';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';
import { newXid } from './support/callbacks.js';

const kinds = await storeKinds(['sqlite', 'mysql', 'postgres']);

/** Adds one to two counters, the first, then after a pause the second: opposite orders deadlock. */
@Participant('pair')
class CounterPair {
  @TccAction({ confirm: 'done', cancel: 'undo' })
  async bump(ctx: TccContext<{ first: string; second: string }>): Promise<void> {
    await ctx.trx('counters').where('id', ctx.payload.first).increment('n', 1);
    await sleep(100);
    await ctx.trx('counters').where('id', ctx.payload.second).increment('n', 1);
  }

  async done(_ctx: TccContext): Promise<void> {}
  async undo(_ctx: TccContext): Promise<void> {}
}

describe.each(kinds)('barrier on %s: a deadlocked local transaction is run again', (kind) => {
  let db: FreshDatabase | undefined;
  let knex: Knex | undefined;
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    await knex?.destroy();
    await db?.drop();
    app = undefined;
  });

  it('two tries taking the same rows in opposite orders both succeed (2xx) and both apply once', async () => {
    db = await freshDatabase(kind, 'deadlock');
    knex = knexFromUrl(db.url, { poolMax: 4 });
    await ensureBarrierTable(knex);
    await knex.schema.createTable('counters', (t) => {
      t.string('id', 8).primary();
      t.integer('n').notNullable();
    });
    await knex('counters').insert([{ id: 'a', n: 0 }, { id: 'b', n: 0 }]);
    app = Fastify();
    await app.register(participantPlugin, { knex, participants: [new CounterPair()] });
    await app.ready();
    const server = app;
    const tryBump = (first: string, second: string) =>
      server.inject({ method: 'POST', url: '/dtx/pair.bump/try', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ xid: newXid(), branchId: 'b', payload: { first, second } }) });

    const ROUNDS = 3;
    for (let round = 0; round < ROUNDS; round++) {
      const answers = await Promise.all([tryBump('a', 'b'), tryBump('b', 'a')]);
      expect({ round, statuses: answers.map((a) => a.statusCode) }).toEqual({ round, statuses: [204, 204] });
    }
    const counters = await knex('counters').orderBy('id').select('id', 'n');
    expect(counters.map((c: { id: string; n: unknown }) => [c.id, Number(c.n)])).toEqual([['a', 2 * ROUNDS], ['b', 2 * ROUNDS]]);
    expect(Number(((await knex('dtx_barrier').count({ n: '*' }).first()) as { n: unknown }).n)).toBe(2 * ROUNDS);
  });
});

describe('which database errors count as a lock conflict', () => {
  it.each([
    [{ errno: 1213, code: 'ER_LOCK_DEADLOCK' }, true],
    [{ errno: 1205, code: 'ER_LOCK_WAIT_TIMEOUT' }, true],
    [{ code: '40001' }, true],
    [{ code: '40P01' }, true],
    [{ code: '55P03' }, true],
    [new Error('wrapped', { cause: Object.assign(new Error('deadlock'), { code: '40P01' }) }), true],
    [{ errno: 1062, code: 'ER_DUP_ENTRY' }, false],
    [{ code: '23505' }, false],
    [new Error('business failed'), false],
  ])('%o → %s', (err, expected) => {
    expect(isLockConflict(err)).toBe(expected);
  });
});
