import { knexFromUrl } from '@dtx/participant-sdk';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { freshDatabase, storeKinds } from '../support/services.js';
import { newXid, sendCallback } from './support/callbacks.js';
import { startWallet, type TestWallet } from './support/wallets.js';

const kinds = await storeKinds(['sqlite', 'mysql', 'postgres']);

/** A saga wallet's action and compensate, sent as the coordinator would, in every order, on every barrier dialect. */
describe.each(kinds)('saga barrier on %s: action and compensate in any order move money at most once', (kind) => {
  let wallet: TestWallet | undefined;
  afterEach(async () => {
    await wallet?.close();
    wallet = undefined;
  });

  const step = (xid: string, amount = 30) => ({ action: 'sagawallet.debit', xid, branchId: 'debit', payload: { account: 'alice', amount } });
  const balance = async () => (await wallet!.account('alice')).balance;

  it('a repeated action answers the first result without running again; a repeated compensate runs once', async () => {
    wallet = await startWallet(kind);
    await wallet.seed('alice', 100);
    const cb = step(newXid());
    expect(await sendCallback(wallet.url, { ...cb, phase: 'action' })).toEqual({ status: 200, barrier: 'ran', body: { debited: 30 } });
    expect(await sendCallback(wallet.url, { ...cb, phase: 'action', attempt: 2 })).toEqual({ status: 200, barrier: 'duplicate', body: { debited: 30 } });
    expect(await balance()).toBe(70);
    // the compensation's amount comes from the action's kept result, not from a result the coordinator may not have
    expect(await sendCallback(wallet.url, { ...cb, phase: 'compensate' })).toEqual({ status: 204, barrier: 'ran', body: undefined });
    expect(await sendCallback(wallet.url, { ...cb, phase: 'compensate', result: { debited: 30 }, attempt: 2 })).toEqual({ status: 204, barrier: 'duplicate', body: undefined });
    expect(await balance()).toBe(100);
  });

  it('a compensate before its action is an empty compensation, and the late action is refused with 409', async () => {
    wallet = await startWallet(kind);
    await wallet.seed('alice', 100);
    const cb = step(newXid());
    expect(await sendCallback(wallet.url, { ...cb, phase: 'compensate' })).toEqual({ status: 204, barrier: 'empty_rollback', body: undefined });
    const late = await sendCallback(wallet.url, { ...cb, phase: 'action' });
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ error: { code: 'TRY_SUSPENDED', message: expect.stringContaining('arrived after its compensate') } });
    expect(await sendCallback(wallet.url, { ...cb, phase: 'compensate', attempt: 2 })).toMatchObject({ status: 204, barrier: 'duplicate' });
    expect(await balance()).toBe(100);
  });

  it('an action refused by the business leaves no barrier row: its compensation is empty and moves nothing', async () => {
    wallet = await startWallet(kind);
    await wallet.seed('alice', 10);
    const cb = step(newXid(), 30);
    const refused = await sendCallback(wallet.url, { ...cb, phase: 'action' });
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'BUSINESS_REJECTED' } } });
    expect(await sendCallback(wallet.url, { ...cb, phase: 'compensate' })).toMatchObject({ status: 204, barrier: 'empty_rollback' });
    expect(await balance()).toBe(10);
  });

  it('20 sagas whose action and compensate race (and repeat) all end with the balance where it started', async () => {
    wallet = await startWallet(kind);
    await wallet.seed('alice', 1000);
    const xids = Array.from({ length: 20 }, () => newXid());
    const answers = await Promise.all(
      xids.flatMap((xid) => [
        sendCallback(wallet!.url, { ...step(xid, 7), phase: 'action' }),
        sendCallback(wallet!.url, { ...step(xid, 7), phase: 'compensate' }),
        sendCallback(wallet!.url, { ...step(xid, 7), phase: 'action', attempt: 2 }),
        sendCallback(wallet!.url, { ...step(xid, 7), phase: 'compensate', attempt: 2 }),
      ]),
    );
    for (const [n, xid] of xids.entries()) {
      const [action1, compensate1, action2, compensate2] = answers.slice(n * 4, n * 4 + 4) as typeof answers;
      const actions = [action1!, action2!];
      const compensations = [compensate1!, compensate2!];
      expect(compensations.map((c) => c.status), xid).toEqual([204, 204]);
      const ran = actions.filter((a) => a.barrier === 'ran').length;
      // one compensation did the work, the other was its duplicate
      expect(compensations.map((c) => c.barrier).sort(), xid).toEqual(['duplicate', ran === 1 ? 'ran' : 'empty_rollback'].sort());
      // the action ran once and its repeat answered the same; or the compensation came first and both actions were refused
      if (ran === 1) expect(actions.map((a) => [a.status, a.body]), xid).toEqual([[200, { debited: 7 }], [200, { debited: 7 }]]);
      else expect(actions.map((a) => a.status), xid).toEqual([409, 409]);
    }
    expect(await balance()).toBe(1000);
  });

  it.runIf(kind !== 'sqlite')('an install whose barrier table came from the 0001 DDL (op VARCHAR(8)) is widened on start, so `compensate` fits', async () => {
    const db = await freshDatabase(kind, 'saga_widen');
    const old = knexFromUrl(db.url);
    const ddl = readFileSync(new URL(`../../participant-sdk/sql/${kind}/0001_barrier.sql`, import.meta.url), 'utf8');
    for (const s of ddl.replace(/^\s*--.*$/gm, '').split(/;\s*(?:\n|$)/).map((x) => x.trim()).filter(Boolean)) await old.raw(s);
    // what the old width does to the op: refused outright
    await expect(old('dtx_barrier').insert({ xid: 'x', branch_id: 'b', op: 'compensate', reason: 'compensate', created_at: '2026-01-01 00:00:00.000' })).rejects.toThrow();
    await old.destroy();

    wallet = await startWallet(kind, {}, db);
    await wallet.seed('alice', 100);
    const cb = step(newXid());
    expect(await sendCallback(wallet.url, { ...cb, phase: 'compensate' })).toMatchObject({ status: 204, barrier: 'empty_rollback' });
    expect((await sendCallback(wallet.url, { ...cb, phase: 'action' })).status).toBe(409);
    const applied = ((await wallet.server.knex('dtx_barrier_migrations').orderBy('name').select('name')) as { name: string }[]).map((r) => r.name);
    expect(applied).toEqual(['0001_barrier.sql', '0002_barrier_try_result.sql', '0004_barrier_saga_msg_ops.sql']);
  });
});
