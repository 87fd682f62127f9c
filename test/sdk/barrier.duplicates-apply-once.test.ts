import { afterEach, describe, expect, it } from 'vitest';
import { storeKinds } from '../support/services.js';
import { newXid, sendCallback } from './support/callbacks.js';
import { startWallet, type TestWallet } from './support/wallets.js';

const kinds = await storeKinds(['sqlite', 'mysql', 'postgres']);

describe.each(kinds)('barrier on %s: a repeated phase applies once', (kind) => {
  let wallet: TestWallet;
  afterEach(async () => wallet?.close());

  it('debit try, try again, confirm, confirm again: 30 leaves once', async () => {
    wallet = await startWallet(kind);
    await wallet.seed('alice', 100);
    const cb = { action: 'wallet.debit', xid: newXid(), branchId: 'debit', payload: { account: 'alice', amount: 30 } };

    const first = await sendCallback(wallet.url, { ...cb, phase: 'try' });
    expect(first).toMatchObject({ status: 200, barrier: 'ran', body: { frozen: 30 } });
    const again = await sendCallback(wallet.url, { ...cb, phase: 'try', attempt: 2 });
    expect(again).toMatchObject({ status: 200, barrier: 'duplicate', body: { frozen: 30 } });
    expect(await wallet.account('alice')).toEqual({ id: 'alice', balance: 70, frozen: 30, incoming: 0 });

    expect(await sendCallback(wallet.url, { ...cb, phase: 'confirm' })).toMatchObject({ status: 204, barrier: 'ran' });
    expect(await sendCallback(wallet.url, { ...cb, phase: 'confirm', attempt: 2 })).toMatchObject({ status: 204, barrier: 'duplicate' });
    expect(await wallet.account('alice')).toEqual({ id: 'alice', balance: 70, frozen: 0, incoming: 0 });
  });

  it('debit try then cancel twice: the reservation is released once', async () => {
    wallet = await startWallet(kind);
    await wallet.seed('alice', 100);
    const cb = { action: 'wallet.debit', xid: newXid(), branchId: 'debit', payload: { account: 'alice', amount: 30 } };

    expect((await sendCallback(wallet.url, { ...cb, phase: 'try' })).status).toBe(200);
    expect(await sendCallback(wallet.url, { ...cb, phase: 'cancel' })).toMatchObject({ status: 204, barrier: 'ran' });
    expect(await sendCallback(wallet.url, { ...cb, phase: 'cancel', attempt: 2 })).toMatchObject({ status: 204, barrier: 'duplicate' });
    expect(await wallet.account('alice')).toEqual({ id: 'alice', balance: 100, frozen: 0, incoming: 0 });
  });

  it('credit try twice then confirm twice: 25 arrives once', async () => {
    wallet = await startWallet(kind);
    await wallet.seed('bob', 5);
    const cb = { action: 'wallet.credit', xid: newXid(), branchId: 'credit', payload: { account: 'bob', amount: 25 } };

    expect((await sendCallback(wallet.url, { ...cb, phase: 'try' })).status).toBe(200);
    expect(await sendCallback(wallet.url, { ...cb, phase: 'try' })).toMatchObject({ status: 200, barrier: 'duplicate', body: { incoming: 25 } });
    expect(await wallet.account('bob')).toEqual({ id: 'bob', balance: 5, frozen: 0, incoming: 25 });
    expect((await sendCallback(wallet.url, { ...cb, phase: 'confirm' })).status).toBe(204);
    expect((await sendCallback(wallet.url, { ...cb, phase: 'confirm' })).status).toBe(204);
    expect(await wallet.account('bob')).toEqual({ id: 'bob', balance: 30, frozen: 0, incoming: 0 });
  });

  it('two branches of one transaction keep separate barriers', async () => {
    wallet = await startWallet(kind);
    await wallet.seed('alice', 100);
    const xid = newXid();
    for (const branchId of ['one', 'two']) {
      const res = await sendCallback(wallet.url, { action: 'wallet.debit', phase: 'try', xid, branchId, payload: { account: 'alice', amount: 10 } });
      expect(res.status).toBe(200);
    }
    expect(await wallet.account('alice')).toMatchObject({ balance: 80, frozen: 20 });
  });
});
