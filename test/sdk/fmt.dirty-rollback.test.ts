import { actionRef, FmtDirtyRollbackError, resolveDirtyRollback } from '@dtx/participant-sdk';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { requireService } from '../support/services.js';
import { newXid, sendCallback } from './support/callbacks.js';
import { startCoordinator, waitForStatus, type TestCoordinator } from './support/coordinator.js';
import { openFmtDesk, type FmtDesk } from './support/fmt-desk.js';
import { startWallet, type TestWallet } from './support/wallets.js';
import { ensureAccountsTable } from '../../examples/bank/src/accounts-table.js';

const hasMysql = await requireService('mysql');
const hasPostgres = await requireService('postgres');

describe.runIf(hasMysql)('a dirty rollback (a write outside FMT between try and cancel), MariaDB wallet, real coordinator', () => {
  let coord: TestCoordinator | undefined;
  let wallet: TestWallet | undefined;
  afterEach(async () => {
    wallet?.server.app.server.closeAllConnections();
    await wallet?.close();
    await coord?.close();
  });

  it('answers 409 FMT_DIRTY_ROLLBACK, the transaction shows stuck with it, rows stay locked; keep-current and restore-before both end it rolled_back', async () => {
    coord = await startCoordinator({ stuckAfterAttempts: 3 });
    wallet = await startWallet('mysql', { mode: 'fmt' });
    await wallet.seed('alice', 1000);
    const w = wallet;
    const knex = w.server.knex;
    const balance = async () => (await w.account('alice')).balance;
    const locks = async () => Number(((await knex('dtx_fmt_lock').count({ n: '*' })) as { n: number }[])[0]!.n);

    for (const [decision, outsideBalance, final] of [['keep-current', 555, 555], ['restore-before', 777, 555]] as const) {
      const before = await balance();
      const outcome = await coord.client.transaction(
        async (tx) => {
          await tx.call(actionRef(w.url, 'fmtwallet.debit'), { account: 'alice', amount: 30 }, { branchId: 'debit' });
          // a local write that neither FMT nor withGlobalLock sees
          await knex('accounts').where('id', 'alice').update({ balance: outsideBalance });
          throw new Error('the initiator changed its mind');
        },
        { timeoutMs: 20_000, wait: false },
      );
      const xid = outcome.xid;
      let view = await coord.client.get(xid);
      for (const until = Date.now() + 15_000; !view.stuck && Date.now() < until; await sleep(50)) view = await coord.client.get(xid);
      expect(view).toMatchObject({ status: 'rolling_back', stuck: true });
      expect(view.lastError ?? view.branches[0]!.lastError).toMatch(/FMT_DIRTY_ROLLBACK|balance/);
      // nothing written, the row still locked against other FMT writers
      expect(await balance()).toBe(outsideBalance);
      expect(await locks()).toBe(1);
      const other = await sendCallback(w.url, { action: 'fmtwallet.debit', phase: 'try', xid: newXid(), branchId: 'debit', payload: { account: 'alice', amount: 1 } });
      expect(other).toMatchObject({ status: 503, body: { error: { code: 'FMT_LOCK_BUSY' } } });

      expect(await resolveDirtyRollback(knex, { xid, branchId: 'debit', decision })).toBe(1);
      await waitForStatus(coord.client, xid, 'rolled_back', 15_000);
      expect(await balance()).toBe(decision === 'keep-current' ? outsideBalance : before);
      expect(await locks()).toBe(0);
      if (decision === 'restore-before') expect(before).toBe(final);
    }
  }, 60_000);
});

describe.runIf(hasPostgres)('a dirty rollback on PostgreSQL names table, key, column, expected and current', () => {
  let desk: FmtDesk | undefined;
  afterEach(async () => desk?.close());

  it('409 with the details, nothing written, then resolved', async () => {
    desk = await openFmtDesk('postgres', 'fmtdirty');
    await ensureAccountsTable(desk.knex);
    await desk.knex('accounts').insert({ id: 'alice', balance: 100, frozen: 0, incoming: 0 });
    const x = newXid();
    await desk.wallet('credit', 'try', x, 'alice', 10);
    await desk.knex('accounts').where('id', 'alice').update({ balance: 5 });
    const dirty = await desk.wallet('credit', 'cancel', x, 'alice', 10);
    expect(dirty).toBeInstanceOf(FmtDirtyRollbackError);
    expect((dirty as FmtDirtyRollbackError).dirty).toEqual({ table: 'accounts', pk: ['alice'], column: 'balance', expected: '110', current: '5', seq: 1 });
    expect(await desk.knex('accounts').where('id', 'alice').first('balance')).toEqual({ balance: '5' });
    expect(await desk.fmtRows()).toEqual({ undo: 1, locks: 1 });
    await resolveDirtyRollback(desk.knex, { xid: x, branchId: 'credit', decision: 'restore-before' });
    expect(await desk.wallet('credit', 'cancel', x, 'alice', 10)).toMatchObject({ kind: 'ran' });
    expect(await desk.knex('accounts').where('id', 'alice').first('balance')).toEqual({ balance: '100' });
    expect(await desk.fmtRows()).toEqual({ undo: 0, locks: 0 });
  });
});
