import { ensureBarrierTable, knexFromUrl, participantPlugin, XaUnsupportedError, ActionTable } from '@dtx/participant-sdk';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { XaWallet } from '../../examples/bank/src/xa-wallet.js';
import { checkPreparedBranches } from '../../participant-sdk/src/xa/prepared-branch-check.js';
import { freshDatabase, requireService, type FreshDatabase } from '../support/services.js';
import { newXid, openXaDesk, type XaDesk } from './support/xa-table.js';

const mysql = await requireService('mysql');
const postgres = await requireService('postgres');

describe('@XaAction where the database cannot run it', () => {
  let db: FreshDatabase | undefined;
  afterEach(async () => db?.drop());

  it('SQLite: refused when the participant is registered', async () => {
    db = await freshDatabase('sqlite', 'xa');
    const knex = knexFromUrl(db.url);
    try {
      expect(() => new ActionTable(knex, [new XaWallet()])).toThrow(XaUnsupportedError);
      expect(() => new ActionTable(knex, [new XaWallet()])).toThrow(/SQLite has no XA/);
    } finally {
      await knex.destroy();
    }
  });

  it.runIf(postgres)('PostgreSQL with max_prepared_transactions = 0: the plugin refuses to start, naming the setting', async () => {
    db = await freshDatabase('postgres', 'xa');
    const knex = knexFromUrl(db.url);
    const app = Fastify();
    try {
      const setting = (await knex.raw('SHOW max_prepared_transactions')) as { rows: { max_prepared_transactions: string }[] };
      expect(setting.rows[0]!.max_prepared_transactions).toBe('0');
      await ensureBarrierTable(knex);
      const start = async () => {
        await app.register(participantPlugin, { knex, participants: [new XaWallet()] });
        await app.ready();
      };
      await expect(start()).rejects.toThrow(/max_prepared_transactions/);
    } finally {
      await app.close().catch(() => undefined);
      await knex.destroy();
    }
  });
});

describe.runIf(mysql)('a prepared XA branch that no phase 2 reaches is resolved from the coordinator', () => {
  let db: FreshDatabase | undefined;
  let desk: XaDesk | undefined;
  const xids: string[] = [];
  afterEach(async () => {
    // Leave nothing prepared, whatever the test did (a prepared branch would also hold DROP DATABASE).
    if (desk) await desk.rollBack(await desk.prepared(xids));
    await desk?.close();
    await db?.drop();
  });

  it('committed → XA COMMIT, rolled back or unknown → XA ROLLBACK, in flight → left alone; each with a log line', async () => {
    db = await freshDatabase('mysql', 'xa');
    desk = await openXaDesk(db.url, 100);
    const [committed, rolledBack, unknown, trying] = [newXid(), newXid(), newXid(), newXid()];
    xids.push(committed, rolledBack, unknown, trying);
    // One account each: a prepared debit keeps its account's row locked.
    const accounts = ['a1', 'a2', 'a3', 'a4'];
    await desk.knex('accounts').insert(accounts.map((id) => ({ id, balance: 100, frozen: 0, incoming: 0 })));
    for (const [i, x] of [committed, rolledBack, unknown, trying].entries()) expect(await desk.send('debit', 'try', x, 10, accounts[i])).toMatchObject({ kind: 'ran' });
    const statuses: Record<string, string> = { [committed]: 'committed', [rolledBack]: 'rolled_back', [trying]: 'trying' };
    const coordinator = {
      get: async (xid: string) => {
        if (statuses[xid]) return { status: statuses[xid] };
        throw Object.assign(new Error('not found'), { code: 'TX_NOT_FOUND' });
      },
    };
    const lines: string[] = [];
    const log = { info: (_o: object, msg: string) => lines.push(msg), warn: (_o: object, msg: string) => lines.push(`warn ${msg}`) };
    const firstSeen = new Map<string, number>();
    const deps = { knex: desk.knex, coordinator, settings: { lockWaitSeconds: 1, busyForMs: 5000 }, orphanAfterMs: 1000, log, now: () => clock };
    let clock = 1_000_000;
    await checkPreparedBranches(deps, firstSeen);
    // Seen once, not yet long enough.
    expect(await desk.prepared([committed, rolledBack, unknown, trying])).toHaveLength(4);
    clock += 1000;
    await checkPreparedBranches(deps, firstSeen);
    expect(await desk.prepared([committed, rolledBack, unknown, trying])).toHaveLength(1);
    expect(await Promise.all(accounts.map((a) => desk!.balance(a)))).toEqual([90, 100, 100, 100]);
    expect(lines.filter((l) => l.includes('resolved a prepared XA branch'))).toHaveLength(3);
    // The one still trying gets its phase 2 as usual.
    expect(await desk.send('debit', 'cancel', trying, 10, 'a4')).toMatchObject({ kind: 'ran' });
    expect(await desk.prepared([trying])).toEqual([]);
    expect(await desk.balance('a4')).toBe(100);
    // Phase 2 arriving after the check resolved a branch finds it done.
    expect(await desk.send('debit', 'confirm', committed, 10, 'a1')).toEqual({ kind: 'duplicate' });
  });
});
