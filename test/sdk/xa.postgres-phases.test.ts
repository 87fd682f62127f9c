import { ensureBarrierTable, participantPlugin, TccRejectedError, TrySuspendedError, knexFromUrl } from '@dtx/participant-sdk';
import Fastify from 'fastify';
import knexFactory from 'knex';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { XaWallet } from '../../examples/bank/src/xa-wallet.js';
import { checkPreparedBranches } from '../../participant-sdk/src/xa/prepared-branch-check.js';
import { OwnPostgres } from '../support/own-postgres.js';
import { newXid, openXaDesk, type XaDesk } from './support/xa-table.js';

// A PostgreSQL server of this file's own that allows prepared transactions (the shared one on 5432 has max_prepared_transactions = 0).
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
const pg = await OwnPostgres.start({ max_prepared_transactions: '20' });
if (!pg && IN_CI) throw new Error('the PostgreSQL server binaries are missing, and CI=true: this suite must fail, not skip');

describe.runIf(pg)('@XaAction on PostgreSQL: PREPARE TRANSACTION, COMMIT / ROLLBACK PREPARED', () => {
  let desk: XaDesk;
  const xids: string[] = [];
  const xid = () => {
    const x = newXid();
    xids.push(x);
    return x;
  };
  beforeAll(async () => {
    const admin = knexFactory({ client: 'pg', connection: pg!.url('postgres'), pool: { min: 0, max: 1 } });
    await admin.raw('CREATE DATABASE dtx_xa');
    await admin.destroy();
    desk = await openXaDesk(pg!.url('dtx_xa'), 100);
  });
  afterEach(async () => {
    await desk.knex('accounts').where('id', 'alice').update({ balance: 100 });
  });
  afterAll(async () => {
    try {
      // No prepared transaction of the tests' is left behind.
      const left = desk ? await desk.prepared(xids) : [];
      if (desk) await desk.rollBack(left);
      expect(left).toEqual([]);
    } finally {
      await desk?.close();
      await pg?.remove();
    }
  });

  it('the plugin starts where max_prepared_transactions > 0', async () => {
    const knex = knexFromUrl(pg!.url('dtx_xa'));
    const app = Fastify();
    try {
      await ensureBarrierTable(knex);
      await app.register(participantPlugin, { knex, participants: [new XaWallet()] });
      await app.ready();
    } finally {
      await app.close();
      await knex.destroy();
    }
  });

  it('try prepares the debit (in pg_prepared_xacts), invisible until confirm commits it', async () => {
    const x = xid();
    expect(await desk.send('debit', 'try', x)).toEqual({ kind: 'ran', result: { debited: 30 } });
    expect(await desk.prepared([x])).toHaveLength(1);
    expect(await desk.balance()).toBe(100);
    expect(await desk.send('debit', 'confirm', x)).toEqual({ kind: 'ran', result: undefined });
    expect(await desk.prepared([x])).toEqual([]);
    expect(await desk.balance()).toBe(70);
  });

  it('cancel rolls the prepared debit back', async () => {
    const x = xid();
    await desk.send('debit', 'try', x);
    expect(await desk.send('debit', 'cancel', x)).toMatchObject({ kind: 'ran' });
    expect(await desk.prepared([x])).toEqual([]);
    expect(await desk.balance()).toBe(100);
  });

  it('an overdraft is refused (409) and prepares nothing', async () => {
    const x = xid();
    const refused = await desk.send('debit', 'try', x, 500);
    expect(refused).toBeInstanceOf(TccRejectedError);
    expect(refused).toMatchObject({ code: 'BUSINESS_REJECTED' }); // answered 409 (error-reply.ts)
    expect(await desk.prepared([x])).toEqual([]);
    expect(await desk.send('debit', 'cancel', x, 500)).toEqual({ kind: 'empty_rollback' });
    expect(await desk.balance()).toBe(100);
  });

  it('duplicate try, confirm and cancel apply once', async () => {
    const x = xid();
    await desk.send('debit', 'try', x);
    // PostgreSQL cannot read into a prepared transaction: the duplicate of a prepared try carries no result.
    expect(await desk.send('debit', 'try', x)).toEqual({ kind: 'duplicate' });
    expect(await desk.send('debit', 'confirm', x)).toMatchObject({ kind: 'ran' });
    expect(await desk.send('debit', 'confirm', x)).toEqual({ kind: 'duplicate' });
    expect(await desk.send('debit', 'try', x)).toEqual({ kind: 'duplicate', result: { debited: 30 } });
    expect(await desk.balance()).toBe(70);
    const y = xid();
    await desk.send('debit', 'try', y);
    expect(await desk.send('debit', 'cancel', y)).toMatchObject({ kind: 'ran' });
    expect(await desk.send('debit', 'cancel', y)).toEqual({ kind: 'duplicate' });
    expect(await desk.balance()).toBe(70);
  }, 20_000);

  it('a cancel before its try is an empty rollback, and the late try is refused (409)', async () => {
    const x = xid();
    expect(await desk.send('debit', 'cancel', x)).toEqual({ kind: 'empty_rollback' });
    const late = await desk.send('debit', 'try', x);
    expect(late).toBeInstanceOf(TrySuspendedError);
    expect(late).toMatchObject({ code: 'TRY_SUSPENDED' }); // answered 409
    expect(await desk.prepared([x])).toEqual([]);
    expect(await desk.balance()).toBe(100);
    expect(await desk.send('debit', 'confirm', x)).toMatchObject({ code: 'PHASE_CONFLICT' });
  });

  it('a confirm that finds the prepared transaction already committed (crash before its confirm row) still completes', async () => {
    const x = xid();
    await desk.send('debit', 'try', x);
    const [gid] = await desk.prepared([x]);
    await desk.knex.raw(`COMMIT PREPARED '${gid}'`);
    expect(await desk.send('debit', 'confirm', x)).toEqual({ kind: 'duplicate' });
    expect(await desk.balance()).toBe(70);
  });

  it('a cancel racing its try always ends with the change rolled back (20 rounds)', async () => {
    const seen = { rolledBack: 0, suspended: 0 };
    for (let round = 0; round < 20; round++) {
      const x = xid();
      const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
      const [t, c] = await Promise.all([
        delay(round % 2 ? Math.random() * 4 : 0).then(() => desk.send('debit', 'try', x)),
        delay(round % 2 ? 0 : Math.random() * 4).then(() => desk.send('debit', 'cancel', x)),
      ]);
      expect(c).not.toBeInstanceOf(Error);
      if (t instanceof Error) {
        expect(t).toBeInstanceOf(TrySuspendedError);
        seen.suspended++;
      } else {
        expect((c as { kind: string }).kind).toBe('ran');
        seen.rolledBack++;
      }
      expect({ round, balance: await desk.balance() }).toEqual({ round, balance: 100 });
    }
    expect(seen.rolledBack + seen.suspended).toBe(20);
  }, 60_000);

  it('recovery lists pg_prepared_xacts: committed → COMMIT PREPARED, unknown → ROLLBACK PREPARED, in flight → left alone', async () => {
    const [committed, unknown, trying] = [xid(), xid(), xid()];
    const accounts = ['p1', 'p2', 'p3'];
    await desk.knex('accounts').insert(accounts.map((id) => ({ id, balance: 100, frozen: 0, incoming: 0 })));
    for (const [i, x] of [committed, unknown, trying].entries()) expect(await desk.send('debit', 'try', x, 10, accounts[i])).toMatchObject({ kind: 'ran' });
    const statuses: Record<string, string> = { [committed]: 'committed', [trying]: 'trying' };
    const coordinator = {
      get: async (x: string) => {
        if (statuses[x]) return { status: statuses[x] };
        throw Object.assign(new Error('not found'), { code: 'TX_NOT_FOUND' });
      },
    };
    const log = { info: () => undefined, warn: () => undefined };
    const deps = { knex: desk.knex, coordinator, settings: { lockWaitSeconds: 1, busyForMs: 5000 }, orphanAfterMs: 0, log };
    await checkPreparedBranches(deps, new Map());
    expect(await desk.prepared([committed, unknown, trying])).toHaveLength(1);
    expect(await Promise.all(accounts.map((a) => desk.balance(a)))).toEqual([90, 100, 100]);
    expect(await desk.send('debit', 'cancel', trying, 10, 'p3')).toMatchObject({ kind: 'ran' });
    expect(await desk.send('debit', 'confirm', committed, 10, 'p1')).toEqual({ kind: 'duplicate' });
  });
});
