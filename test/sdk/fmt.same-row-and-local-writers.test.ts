import { FmtBranchWaitingError, FmtLockBusyError, withGlobalLock } from '@dtx/participant-sdk';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureAccountsTable } from '../../examples/bank/src/accounts-table.js';
import { requireService } from '../support/services.js';
import { newXid, openFmtDesk, type FmtDesk } from './support/fmt-desk.js';

const kinds = [...((await requireService('mysql')) ? ['mysql' as const] : []), ...((await requireService('postgres')) ? ['postgres' as const] : [])];

describe.each(kinds)('FMT on %s: one transaction\'s branches on one row, and local writers', (kind) => {
  let desk: FmtDesk | undefined;
  afterEach(async () => desk?.close());
  const open = async () => {
    desk = await openFmtDesk(kind, 'fmtsame', { settings: { lockWaitMs: 100, busyForMs: 300, maxRowsPerStatement: 1000 } });
    await ensureAccountsTable(desk.knex);
    await desk.knex('accounts').insert({ id: 'alice', balance: 100, frozen: 0, incoming: 0 });
    return desk;
  };
  const balance = async (d: FmtDesk, id = 'alice') => Number((await d.knex('accounts').where('id', id).first('balance'))?.balance ?? NaN);

  it('two branches of one transaction change one row: cancels in either order undo in reverse order of the tries, with no false dirty', async () => {
    const d = await open();
    // the cancels arrive together (parallel phase 2): the earlier branch's waits for the later's
    const x = newXid();
    expect(await d.wallet('credit', 'try', x, 'alice', 10, 'c1')).toMatchObject({ kind: 'ran' });
    expect(await d.wallet('debit', 'try', x, 'alice', 3, 'c2')).toMatchObject({ kind: 'ran' });
    expect(await balance(d)).toBe(107);
    const both = await Promise.all([d.wallet('credit', 'cancel', x, 'alice', 10, 'c1'), d.wallet('debit', 'cancel', x, 'alice', 3, 'c2')]);
    expect(both).toEqual([{ kind: 'ran', result: undefined }, { kind: 'ran', result: undefined }]);
    expect(await balance(d)).toBe(100);
    // in forward order, one after the other: the first answers 503 (FMT_WAITING_FOR_LATER_BRANCH) until the second is undone
    const y = newXid();
    const insert = d.script('insert', (t) => t('accounts').insert({ id: 'carol', balance: 10, frozen: 0, incoming: 0 }));
    expect(await d.send('try', y, insert, {}, 'b1')).toMatchObject({ kind: 'ran' });
    expect(await d.wallet('credit', 'try', y, 'carol', 5, 'b2')).toMatchObject({ kind: 'ran' });
    expect(await d.send('cancel', y, insert, {}, 'b1')).toBeInstanceOf(FmtBranchWaitingError);
    expect(await d.wallet('credit', 'cancel', y, 'carol', 5, 'b2')).toMatchObject({ kind: 'ran' });
    expect(await d.send('cancel', y, insert, {}, 'b1')).toMatchObject({ kind: 'ran' });
    expect(await d.knex('accounts').where('id', 'carol').first()).toBeUndefined();
    // committed: the first confirm releases the shared row (no undo of the transaction will run), the second finds it gone
    const z = newXid();
    await d.wallet('credit', 'try', z, 'alice', 10, 'c1');
    await d.wallet('credit', 'try', z, 'alice', 5, 'c2');
    expect(await d.wallet('credit', 'confirm', z, 'alice', 10, 'c1')).toMatchObject({ kind: 'ran' });
    expect(await d.fmtRows()).toEqual({ undo: 1, locks: 0 });
    expect(await d.wallet('credit', 'confirm', z, 'alice', 5, 'c2')).toMatchObject({ kind: 'ran' });
    expect(await balance(d)).toBe(115);
    expect(await d.fmtRows()).toEqual({ undo: 0, locks: 0 });
  });

  it('withGlobalLock writers wait for rows an undecided FMT branch holds, are refused past their wait, and never make a rollback dirty', async () => {
    const d = await open();
    const x = newXid();
    await d.wallet('debit', 'try', x, 'alice', 30);
    const local = (amount: number, waitMs: number) =>
      withGlobalLock(d.knex, async (trx) => trx('accounts').where('id', 'alice').update({ balance: trx.raw('balance + ?', [amount]) }), { waitMs });
    await expect(local(1, 200)).rejects.toBeInstanceOf(FmtLockBusyError);
    const waiting = local(1, 5000);
    await sleep(150);
    expect(await d.wallet('debit', 'cancel', x, 'alice', 30)).toMatchObject({ kind: 'ran' });
    await waiting;
    expect(await balance(d)).toBe(101);
    // SELECT … FOR UPDATE through the builder respects global locks, in an FMT try and in withGlobalLock
    const held = newXid();
    await d.wallet('debit', 'try', held, 'alice', 1);
    const reader = d.script('read', (t) => t('accounts').where('id', 'alice').forUpdate().first());
    expect(await d.send('try', newXid(), reader)).toBeInstanceOf(FmtLockBusyError);
    expect(await d.send('try', held, reader, {}, 'b9')).toMatchObject({ kind: 'ran' }); // its own transaction's lock
    await expect(withGlobalLock(d.knex, (trx) => trx('accounts').where('id', 'alice').forUpdate().first(), { waitMs: 100 })).rejects.toBeInstanceOf(FmtLockBusyError);
    expect(await d.wallet('debit', 'cancel', held, 'alice', 1)).toMatchObject({ kind: 'ran' });
    expect(await d.send('cancel', held, reader, {}, 'b9')).toMatchObject({ kind: 'ran' });
    expect(await balance(d)).toBe(101);
    // interleaved: FMT debits confirmed or cancelled at random, local credits between them
    let expected = 101;
    await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        if (i % 2 === 0) {
          await local(2, 10_000);
          expected += 2;
          return;
        }
        const xid = newXid();
        for (let n = 0; ; n++) {
          const tried = await d.wallet('debit', 'try', xid, 'alice', 5);
          if (!(tried instanceof FmtLockBusyError)) break;
          if (n > 200) throw tried;
        }
        await sleep(20);
        const phase = Math.random() < 0.5 ? 'confirm' : 'cancel';
        expect(await d.wallet('debit', phase, xid, 'alice', 5)).toMatchObject({ kind: 'ran' });
        if (phase === 'confirm') expected -= 5;
      }),
    );
    expect(await balance(d)).toBe(expected);
    expect(await d.fmtRows()).toEqual({ undo: 0, locks: 0 });
  }, 60_000);
});
