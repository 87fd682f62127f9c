import { afterEach, describe, expect, it } from 'vitest';
import { storeKinds } from '../support/services.js';
import { newXid, sendCallback } from './support/callbacks.js';
import { startWallet, type TestWallet } from './support/wallets.js';

const kinds = await storeKinds(['sqlite', 'mysql', 'postgres']);

// Sequences the coordinator never sends; a raw caller that does must not move money.
describe.each(kinds)('barrier on %s: confirm and cancel of one branch never both apply', (kind) => {
  let wallet: TestWallet;
  afterEach(async () => wallet?.close());

  async function withOtherReservation() {
    wallet = await startWallet(kind);
    await wallet.seed('alice', 100);
    // Another transaction's reservation, which a stray phase 2 could otherwise consume.
    const other = { action: 'wallet.debit', xid: newXid(), branchId: 'debit', payload: { account: 'alice', amount: 50 } };
    expect((await sendCallback(wallet.url, { ...other, phase: 'try' })).status).toBe(200);
    expect(await wallet.account('alice')).toMatchObject({ balance: 50, frozen: 50 });
    return { action: 'wallet.debit', xid: newXid(), branchId: 'debit', payload: { account: 'alice', amount: 30 } };
  }

  it('a confirm before its try is refused with 409 PHASE_CONFLICT, changes nothing, and works once the try ran', async () => {
    const cb = await withOtherReservation();
    const early = await sendCallback(wallet.url, { ...cb, phase: 'confirm' });
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ error: { code: 'PHASE_CONFLICT' } });
    expect(await wallet.account('alice')).toMatchObject({ balance: 50, frozen: 50 });

    expect((await sendCallback(wallet.url, { ...cb, phase: 'try' })).status).toBe(200);
    expect((await sendCallback(wallet.url, { ...cb, phase: 'confirm', attempt: 2 })).status).toBe(204);
    expect(await wallet.account('alice')).toMatchObject({ balance: 20, frozen: 50 });
  });

  it('a cancel after confirm, and a confirm after cancel, are refused and change nothing', async () => {
    const cb = await withOtherReservation();
    expect((await sendCallback(wallet.url, { ...cb, phase: 'try' })).status).toBe(200);
    expect((await sendCallback(wallet.url, { ...cb, phase: 'confirm' })).status).toBe(204);
    const cancel = await sendCallback(wallet.url, { ...cb, phase: 'cancel' });
    expect(cancel.status).toBe(409);
    expect(cancel.body).toMatchObject({ error: { code: 'PHASE_CONFLICT' } });
    expect(await wallet.account('alice')).toMatchObject({ balance: 20, frozen: 50 });

    const cb2 = { ...cb, xid: newXid(), payload: { account: 'alice', amount: 10 } };
    expect((await sendCallback(wallet.url, { ...cb2, phase: 'try' })).status).toBe(200);
    expect((await sendCallback(wallet.url, { ...cb2, phase: 'cancel' })).status).toBe(204);
    expect((await sendCallback(wallet.url, { ...cb2, phase: 'confirm' })).status).toBe(409);
    expect(await wallet.account('alice')).toMatchObject({ balance: 20, frozen: 50 });

    // After a cancel before try, a confirm is refused too.
    const cb3 = { ...cb, xid: newXid() };
    expect((await sendCallback(wallet.url, { ...cb3, phase: 'cancel' })).barrier).toBe('empty_rollback');
    expect((await sendCallback(wallet.url, { ...cb3, phase: 'confirm' })).status).toBe(409);
    expect(await wallet.account('alice')).toEqual({ id: 'alice', balance: 20, frozen: 50, incoming: 0 });
  });
});
