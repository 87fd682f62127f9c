import { afterEach, describe, expect, it } from 'vitest';
import { transfer } from '../../examples/bank/src/transfer.js';
import { startCoordinator, type TestCoordinator } from './support/coordinator.js';
import { startWallet, type TestWallet } from './support/wallets.js';

const SECRET = 'shared-signing-secret';

describe('end to end with signed callbacks', () => {
  let coord: TestCoordinator | undefined;
  let wallets: TestWallet[] = [];
  afterEach(async () => {
    for (const w of wallets) await w.close();
    await coord?.close();
    wallets = [];
    coord = undefined;
  });

  it('tries signed by the initiator and confirms signed by the coordinator are accepted: the transfer commits', async () => {
    coord = await startCoordinator({ signingSecret: SECRET });
    const a = await startWallet('sqlite', { signingSecret: SECRET });
    const b = await startWallet('sqlite', { signingSecret: SECRET });
    wallets = [a, b];
    await a.seed('alice', 100);
    await b.seed('bob', 0);
    const outcome = await transfer(coord.client, { from: { walletUrl: a.url, account: 'alice' }, to: { walletUrl: b.url, account: 'bob' }, amount: 10 });
    expect(outcome.status).toBe('committed');
    expect(await a.account('alice')).toEqual({ id: 'alice', balance: 90, frozen: 0, incoming: 0 });
    expect(await b.account('bob')).toEqual({ id: 'bob', balance: 10, frozen: 0, incoming: 0 });
  });

  it('a wallet expecting another secret refuses the try with 401, so the transfer rolls back and nothing moves', async () => {
    coord = await startCoordinator({ signingSecret: SECRET });
    const a = await startWallet('sqlite', { signingSecret: SECRET });
    const b = await startWallet('sqlite', { signingSecret: 'a-different-secret' });
    wallets = [a, b];
    await a.seed('alice', 100);
    await b.seed('bob', 0);
    const outcome = await transfer(coord.client, { from: { walletUrl: a.url, account: 'alice' }, to: { walletUrl: b.url, account: 'bob' }, amount: 10 });
    expect(outcome.status).toMatch(/^rolled_back|rolling_back$/);
    expect('error' in outcome && outcome.error.message).toMatch(/HTTP 401/);
    // The credit wallet also refuses the coordinator's cancel, so the rollback stays retrying;
    // what matters to the money is that the debit was released and nothing arrived.
    expect(await a.account('alice')).toEqual({ id: 'alice', balance: 100, frozen: 0, incoming: 0 });
    expect(await b.account('bob')).toEqual({ id: 'bob', balance: 0, frozen: 0, incoming: 0 });
  });
});
