import { ActionTable, ensureFmtTables, FmtUnsupportedError, knexFromUrl, pruneFmt } from '@dtx/participant-sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureAccountsTable } from '../../examples/bank/src/accounts-table.js';
import { FmtWallet } from '../../examples/bank/src/fmt-wallet.js';
import { checkStrandedFmtBranches } from '../../participant-sdk/src/fmt/stranded-branch-check.js';
import { freshDatabase, requireService, type FreshDatabase } from '../support/services.js';
import { newXid, openFmtDesk, type FmtDesk } from './support/fmt-desk.js';

const kinds = [...((await requireService('mysql')) ? ['mysql' as const] : []), ...((await requireService('postgres')) ? ['postgres' as const] : [])];
const quiet = { info: () => undefined, warn: () => undefined };
const settings = { lockWaitMs: 0, busyForMs: 0, maxRowsPerStatement: 1000 };

describe('FMT refuses SQLite at registration', () => {
  let db: FreshDatabase | undefined;
  afterEach(async () => db?.drop());
  it('an ActionTable with @FmtAction actions on SQLite throws FmtUnsupportedError; ensureFmtTables too', async () => {
    db = await freshDatabase('sqlite', 'fmtsqlite');
    const knex = knexFromUrl(db.url);
    try {
      expect(() => new ActionTable(knex, [new FmtWallet()])).toThrow(FmtUnsupportedError);
      await expect(ensureFmtTables(knex)).rejects.toBeInstanceOf(FmtUnsupportedError);
    } finally {
      await knex.destroy();
    }
  });
});

describe.each(kinds)('FMT housekeeping on %s', (kind) => {
  let desk: FmtDesk | undefined;
  afterEach(async () => desk?.close());

  it('ensureFmtTables from two processes at once, then again: the tables once, no error', async () => {
    desk = await openFmtDesk(kind, 'fmtensure');
    const [a, b] = [knexFromUrl(desk.db.url), knexFromUrl(desk.db.url)];
    try {
      await Promise.all([ensureFmtTables(a), ensureFmtTables(b), ensureFmtTables(a)]);
      await ensureFmtTables(b);
      const names = ((await a('dtx_barrier_migrations').select('name')) as { name: string }[]).map((r) => r.name).sort();
      expect(names).toEqual(['0001_barrier.sql', '0002_barrier_try_result.sql', '0003_fmt_undo_and_locks.sql', '0004_barrier_saga_msg_ops.sql']);
    } finally {
      await Promise.all([a.destroy(), b.destroy()]);
    }
  });

  it('the stranded-branch check confirms, undoes or leaves each old branch from the coordinator\'s state; a write over maxRowsPerStatement is refused', async () => {
    desk = await openFmtDesk(kind, 'fmtstranded');
    await ensureAccountsTable(desk.knex);
    await desk.knex('accounts').insert(['a', 'b', 'c', 'd'].map((id) => ({ id, balance: 100, frozen: 0, incoming: 0 })));
    const [committed, rolledBack, unknown, trying] = [newXid(), newXid(), newXid(), newXid()];
    await desk.wallet('debit', 'try', committed, 'a', 10);
    await desk.wallet('debit', 'try', rolledBack, 'b', 10);
    await desk.wallet('debit', 'try', unknown, 'c', 10);
    await desk.wallet('debit', 'try', trying, 'd', 10);
    const statuses: Record<string, string> = { [committed]: 'committed', [rolledBack]: 'rolled_back', [trying]: 'trying' };
    const coordinator = {
      get: async (xid: string) => {
        if (!statuses[xid]) throw Object.assign(new Error('no such transaction'), { code: 'TX_NOT_FOUND' });
        return { status: statuses[xid]! };
      },
    };
    const deps = { knex: desk.knex, coordinator, settings, orphanAfterMs: 60_000, log: quiet };
    await checkStrandedFmtBranches(deps);
    expect(await desk.fmtRows()).toEqual({ undo: 4, locks: 4 }); // not old yet
    await checkStrandedFmtBranches({ ...deps, now: () => Date.now() + 120_000 });
    const balances = Object.fromEntries(((await desk.knex('accounts').select('id', 'balance')) as { id: string; balance: unknown }[]).map((r) => [r.id, Number(r.balance)]));
    expect(balances).toEqual({ a: 90, b: 100, c: 100, d: 90 });
    expect(await desk.fmtRows()).toEqual({ undo: 1, locks: 1 });
    expect(await pruneFmt(desk.knex, { olderThanMs: 1, now: Date.now() + 10_000 })).toBe(0);
    // the bound on one statement's rows
    const small = new ActionTable(desk.knex, [new FmtWallet()], undefined, { ...settings, maxRowsPerStatement: 0 });
    const refused = await small.handle({ action: 'fmtwallet.credit', body: { xid: newXid(), branchId: 'c', phase: 'try', payload: { account: 'a', amount: 1 } }, attempt: 1 }).catch((e: Error) => e);
    expect(refused).toMatchObject({ code: 'FMT_UNSUPPORTED_STATEMENT' });
  });

  it('pruneFmt deletes undo records whose branch the barrier shows finished, and locks with no undo record left', async () => {
    desk = await openFmtDesk(kind, 'fmtprune');
    await ensureAccountsTable(desk.knex);
    await desk.knex('accounts').insert({ id: 'a', balance: 100, frozen: 0, incoming: 0 });
    const x = newXid();
    await desk.wallet('debit', 'try', x, 'a', 10);
    // what a lost delete would leave: the barrier says confirmed, the undo record and lock are still there
    await desk.knex('dtx_barrier').insert({ xid: x, branch_id: 'debit', op: 'confirm', reason: 'confirm', created_at: new Date(Date.now() - 60_000) });
    expect(await pruneFmt(desk.knex, { olderThanMs: 3_600_000 })).toBe(0);
    expect(await pruneFmt(desk.knex, { olderThanMs: 1, now: Date.now() + 10_000 })).toBe(2);
    expect(await desk.fmtRows()).toEqual({ undo: 0, locks: 0 });
  });
});
