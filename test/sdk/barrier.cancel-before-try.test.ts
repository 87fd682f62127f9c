import { afterEach, describe, expect, it } from 'vitest';
import { storeKinds } from '../support/services.js';
import { newXid, sendCallback } from './support/callbacks.js';
import { startWallet, type TestWallet } from './support/wallets.js';

const kinds = await storeKinds(['sqlite', 'mysql', 'postgres']);

describe.each(kinds)('barrier on %s: cancel before try', (kind) => {
  let wallet: TestWallet;
  afterEach(async () => wallet?.close());

  it('is an empty rollback, and the late try is refused with 409 and changes nothing', async () => {
    wallet = await startWallet(kind);
    await wallet.seed('alice', 100);
    const cb = { action: 'wallet.debit', xid: newXid(), branchId: 'debit', payload: { account: 'alice', amount: 30 } };

    const cancel = await sendCallback(wallet.url, { ...cb, phase: 'cancel' });
    expect(cancel).toMatchObject({ status: 204, barrier: 'empty_rollback' });
    // Had cancel run the business, alice would now have 130.
    expect(await wallet.account('alice')).toEqual({ id: 'alice', balance: 100, frozen: 0, incoming: 0 });

    const lateTry = await sendCallback(wallet.url, { ...cb, phase: 'try' });
    expect(lateTry.status).toBe(409);
    expect(lateTry.body).toMatchObject({ error: { code: 'TRY_SUSPENDED' } });
    expect(await wallet.account('alice')).toEqual({ id: 'alice', balance: 100, frozen: 0, incoming: 0 });

    // Repeats change nothing either.
    expect(await sendCallback(wallet.url, { ...cb, phase: 'cancel' })).toMatchObject({ status: 204, barrier: 'duplicate' });
    expect((await sendCallback(wallet.url, { ...cb, phase: 'try', attempt: 2 })).status).toBe(409);
    expect(await wallet.account('alice')).toEqual({ id: 'alice', balance: 100, frozen: 0, incoming: 0 });
  });

  it('on a credit: nothing incoming before or after the late try', async () => {
    wallet = await startWallet(kind);
    await wallet.seed('bob', 0);
    const cb = { action: 'wallet.credit', xid: newXid(), branchId: 'credit', payload: { account: 'bob', amount: 40 } };
    expect((await sendCallback(wallet.url, { ...cb, phase: 'cancel' })).barrier).toBe('empty_rollback');
    expect((await sendCallback(wallet.url, { ...cb, phase: 'try' })).status).toBe(409);
    expect(await wallet.account('bob')).toEqual({ id: 'bob', balance: 0, frozen: 0, incoming: 0 });
  });
});
