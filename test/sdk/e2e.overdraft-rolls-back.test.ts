import { branchOf, participantRef, TryRejectedError } from '@dtx/participant-sdk';
import { describe, expect, it } from 'vitest';
import { transfer } from '../../examples/bank/src/transfer.js';
import type { Wallet } from '../../examples/bank/src/wallet.js';
import { bankPerTest } from './support/bank.js';
import { waitForStatus } from './support/coordinator.js';
import type { TestWallet } from './support/wallets.js';

describe('end to end: a refused try rolls the transfer back', () => {
  const openBank = bankPerTest();
  const setUp = () => openBank({ alice: 20, bob: 5 });

  async function expectUntouched(a: TestWallet, b: TestWallet) {
    expect(await a.account('alice')).toEqual({ id: 'alice', balance: 20, frozen: 0, incoming: 0 });
    expect(await b.account('bob')).toEqual({ id: 'bob', balance: 5, frozen: 0, incoming: 0 });
  }

  it('initiator mode: an overdraft is rejected, rolled back, and the credit is never tried', async () => {
    const { a, b, client } = await setUp();
    const outcome = await transfer(client, { from: { walletUrl: a.url, account: 'alice' }, to: { walletUrl: b.url, account: 'bob' }, amount: 30 });
    expect(outcome.status).toBe('rolled_back');
    expect('error' in outcome && outcome.error).toBeInstanceOf(TryRejectedError);
    expect('error' in outcome && (outcome.error as TryRejectedError).participantCode).toBe('BUSINESS_REJECTED');
    await expectUntouched(a, b);
    const view = await client.get(outcome.xid);
    expect(view.branches.map((br) => [br.branchId, br.status])).toEqual([['debit', 'cancelled']]);
  });

  it('initiator mode: an unknown destination rolls back after the debit reserved, releasing exactly that reservation', async () => {
    const { a, b, client } = await setUp();
    const outcome = await transfer(client, { from: { walletUrl: a.url, account: 'alice' }, to: { walletUrl: b.url, account: 'nobody' }, amount: 15 });
    expect(outcome.status).toBe('rolled_back');
    await expectUntouched(a, b);
    const view = await client.get(outcome.xid);
    expect(view.branches.map((br) => [br.branchId, br.status]).sort()).toEqual([
      ['credit', 'cancelled'],
      ['debit', 'cancelled'],
    ]);
  });

  it('driven mode, tries in parallel: the credit that was tried is cancelled, the refused debit releases nothing', async () => {
    const { a, b, client } = await setUp();
    const debit = participantRef<Wallet>(a.url, 'wallet').action('debit');
    const credit = participantRef<Wallet>(b.url, 'wallet').action('credit');
    const res = await client.drive({
      timeoutMs: 10_000,
      branches: [branchOf(debit, 'debit', { account: 'alice', amount: 30 }), branchOf(credit, 'credit', { account: 'bob', amount: 30 })],
    });
    expect(['rolled_back', 'rolling_back']).toContain(res.status);
    await waitForStatus(client, res.xid, 'rolled_back');
    // A cancel that ran the business for the refused debit would leave alice with 50.
    await expectUntouched(a, b);
  });
});
