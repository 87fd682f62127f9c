import { describe, expect, it } from 'vitest';
import { transfer } from '../../examples/bank/src/transfer.js';
import { bankPerTest } from './support/bank.js';

const SECRET = 'shared-signing-secret';

describe('end to end with signed callbacks', () => {
  const openBank = bankPerTest();

  it('tries signed by the initiator and confirms signed by the coordinator are accepted: the transfer commits', async () => {
    const { coord, a, b } = await openBank({ alice: 100, bob: 0, coordinator: { signingSecret: SECRET }, walletSecrets: [SECRET, SECRET] });
    const outcome = await transfer(coord.client, { from: { walletUrl: a.url, account: 'alice' }, to: { walletUrl: b.url, account: 'bob' }, amount: 10 });
    expect(outcome.status).toBe('committed');
    expect(await a.account('alice')).toEqual({ id: 'alice', balance: 90, frozen: 0, incoming: 0 });
    expect(await b.account('bob')).toEqual({ id: 'bob', balance: 10, frozen: 0, incoming: 0 });
  });

  it('a wallet expecting another secret refuses the try with 401, so the transfer rolls back and nothing moves', async () => {
    const { coord, a, b } = await openBank({ alice: 100, bob: 0, coordinator: { signingSecret: SECRET }, walletSecrets: [SECRET, 'a-different-secret'] });
    const outcome = await transfer(coord.client, { from: { walletUrl: a.url, account: 'alice' }, to: { walletUrl: b.url, account: 'bob' }, amount: 10 });
    expect(outcome.status).toMatch(/^rolled_back|rolling_back$/);
    expect('error' in outcome && outcome.error.message).toMatch(/HTTP 401/);
    // The credit wallet also refuses the coordinator's cancel, so the rollback stays retrying;
    // what matters to the money is that the debit was released and nothing arrived.
    expect(await a.account('alice')).toEqual({ id: 'alice', balance: 100, frozen: 0, incoming: 0 });
    expect(await b.account('bob')).toEqual({ id: 'bob', balance: 0, frozen: 0, incoming: 0 });
  });
});
