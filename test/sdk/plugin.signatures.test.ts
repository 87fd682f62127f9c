import { signBody } from '@dtx/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { newXid, sendCallback } from './support/callbacks.js';
import { startWallet, type TestWallet } from './support/wallets.js';

const SECRET = 'test-secret-0123456789';

describe('callback signatures over real HTTP', () => {
  let wallet: TestWallet;
  afterEach(async () => wallet?.close());

  const debit = () => ({ action: 'wallet.debit', phase: 'try' as const, xid: newXid(), branchId: 'debit', payload: { account: 'alice', amount: 10 } });

  it('a good signature is accepted and the try runs', async () => {
    wallet = await startWallet('sqlite', { signingSecret: SECRET });
    await wallet.seed('alice', 100);
    const res = await sendCallback(wallet.url, { ...debit(), secret: SECRET });
    expect(res).toMatchObject({ status: 200, barrier: 'ran' });
    expect(await wallet.account('alice')).toMatchObject({ balance: 90, frozen: 10 });
  });

  it('a signature with the wrong secret, a forged one, or none is refused with 401 and changes nothing', async () => {
    wallet = await startWallet('sqlite', { signingSecret: SECRET });
    await wallet.seed('alice', 100);
    const wrongSecret = await sendCallback(wallet.url, { ...debit(), secret: 'another-secret' });
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.body).toMatchObject({ error: { code: 'BAD_SIGNATURE' } });
    const forged = await sendCallback(wallet.url, { ...debit(), signature: `t=${Date.now()},v1=${'ab'.repeat(32)}` });
    expect(forged.status).toBe(401);
    const garbage = await sendCallback(wallet.url, { ...debit(), signature: 'hello' });
    expect(garbage.status).toBe(401);
    const missing = await sendCallback(wallet.url, debit());
    expect(missing.status).toBe(401);
    expect(await wallet.account('alice')).toEqual({ id: 'alice', balance: 100, frozen: 0, incoming: 0 });
  });

  it('a signature over a different body is refused: the raw bytes are what is signed', async () => {
    wallet = await startWallet('sqlite', { signingSecret: SECRET });
    await wallet.seed('alice', 100);
    const cb = debit();
    const signedFor = JSON.stringify({ xid: cb.xid, branchId: cb.branchId, phase: 'try', payload: { account: 'alice', amount: 1 } });
    const res = await sendCallback(wallet.url, { ...cb, signature: signBody(SECRET, signedFor) });
    expect(res.status).toBe(401);
    expect(await wallet.account('alice')).toMatchObject({ balance: 100, frozen: 0 });
  });

  it('a stale signature (over 5 minutes old) is refused with 401; one just inside the window passes', async () => {
    wallet = await startWallet('sqlite', { signingSecret: SECRET });
    await wallet.seed('alice', 100);
    const stale = await sendCallback(wallet.url, { ...debit(), secret: SECRET, signedAt: Date.now() - 5 * 60_000 - 5_000 });
    expect(stale.status).toBe(401);
    expect(stale.body).toMatchObject({ error: { code: 'BAD_SIGNATURE', message: expect.stringContaining('stale') } });
    const recent = await sendCallback(wallet.url, { ...debit(), secret: SECRET, signedAt: Date.now() - 4 * 60_000 });
    expect(recent.status).toBe(200);
    expect(await wallet.account('alice')).toMatchObject({ balance: 90, frozen: 10 });
  });

  it('without a secret configured, unsigned callbacks are served', async () => {
    wallet = await startWallet('sqlite');
    await wallet.seed('alice', 100);
    expect((await sendCallback(wallet.url, debit())).status).toBe(200);
  });
});
