import { participantRef, TryRejectedError } from '@dtx/participant-sdk';
import { describe, expect, it } from 'vitest';
import type { Wallet } from '../../examples/bank/src/wallet.js';
import { sendCallback } from './support/callbacks.js';
import { bankPerTest } from './support/bank.js';
import { waitForStatus } from './support/coordinator.js';

describe('end to end: callbacks out of order', () => {
  const openBank = bankPerTest();

  it('a cancel that overtakes its try suspends the try: the transfer rolls back and no money moves', async () => {
    const { coord, a, b } = await openBank({ alice: 100, bob: 0 });
    const debit = participantRef<Wallet>(a.url, 'wallet').action('debit');
    const credit = participantRef<Wallet>(b.url, 'wallet').action('credit');

    const outcome = await coord.client.transaction(
      async (tx) => {
        await tx.call(credit, { account: 'bob', amount: 30 }, { branchId: 'credit' });
        // The debit's cancel arrives first, as a cancel from a rollback elsewhere could.
        const early = await sendCallback(a.url, { action: 'wallet.debit', phase: 'cancel', xid: tx.xid, branchId: 'debit', payload: { account: 'alice', amount: 30 } });
        expect(early.barrier).toBe('empty_rollback');
        await tx.call(debit, { account: 'alice', amount: 30 }, { branchId: 'debit' });
      },
      { timeoutMs: 10_000 },
    );
    expect(outcome.status).toBe('rolled_back');
    const error = 'error' in outcome ? outcome.error : undefined;
    expect(error).toBeInstanceOf(TryRejectedError);
    expect((error as TryRejectedError).participantCode).toBe('TRY_SUSPENDED');
    const view = await waitForStatus(coord.client, outcome.xid, 'rolled_back');
    expect(view.branches.map((br) => [br.branchId, br.status]).sort()).toEqual([
      ['credit', 'cancelled'],
      ['debit', 'cancelled'],
    ]);
    expect(await a.account('alice')).toEqual({ id: 'alice', balance: 100, frozen: 0, incoming: 0 });
    expect(await b.account('bob')).toEqual({ id: 'bob', balance: 0, frozen: 0, incoming: 0 });
  });

  it('confirms repeated by hand after the commit change nothing', async () => {
    const { coord, a, b } = await openBank({ alice: 100, bob: 0 });
    const debit = participantRef<Wallet>(a.url, 'wallet').action('debit');
    const credit = participantRef<Wallet>(b.url, 'wallet').action('credit');
    const outcome = await coord.client.transaction(async (tx) => {
      await tx.call(debit, { account: 'alice', amount: 30 }, { branchId: 'debit' });
      await tx.call(credit, { account: 'bob', amount: 30 }, { branchId: 'credit' });
    });
    expect(outcome.status).toBe('committed');
    for (const [url, action, account] of [[a.url, 'wallet.debit', 'alice'], [b.url, 'wallet.credit', 'bob']] as const) {
      const branchId = action === 'wallet.debit' ? 'debit' : 'credit';
      const again = await sendCallback(url, { action, phase: 'confirm', xid: outcome.xid, branchId, payload: { account, amount: 30 }, attempt: 9 });
      expect(again).toMatchObject({ status: 204, barrier: 'duplicate' });
      const lateCancel = await sendCallback(url, { action, phase: 'cancel', xid: outcome.xid, branchId, payload: { account, amount: 30 } });
      expect(lateCancel.status).toBe(409);
    }
    expect(await a.account('alice')).toEqual({ id: 'alice', balance: 70, frozen: 0, incoming: 0 });
    expect(await b.account('bob')).toEqual({ id: 'bob', balance: 30, frozen: 0, incoming: 0 });
  });
});
