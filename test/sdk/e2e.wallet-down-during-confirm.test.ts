import type { TxView } from '@dtx/protocol';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { participantRef } from '@dtx/participant-sdk';
import type { Wallet } from '../../examples/bank/src/wallet.js';
import { bankPerTest } from './support/bank.js';
import { waitForStatus } from './support/coordinator.js';

describe('end to end: a wallet down during confirm', () => {
  const openBank = bankPerTest();

  it('is confirmed once it is back, exactly once', async () => {
    const { a, b, client } = await openBank({ alice: 100, bob: 5 });
    const debit = participantRef<Wallet>(a.url, 'wallet').action('debit');
    const credit = participantRef<Wallet>(b.url, 'wallet').action('credit');

    const outcome = await client.transaction(
      async (tx) => {
        await tx.call(debit, { account: 'alice', amount: 30 });
        await tx.call(credit, { account: 'bob', amount: 30 });
        // The destination wallet goes down after its try, before the commit.
        await b.stop();
      },
      { timeoutMs: 10_000, wait: false },
    );
    expect(outcome.status).toBe('committing');

    // Confirm fails while it is down: the coordinator records the error and keeps the transaction committing.
    let view: TxView = await client.get(outcome.xid);
    const until = Date.now() + 10_000;
    while (!view.branches.some((br) => br.action === 'wallet.credit' && br.attempts >= 2) && Date.now() < until) {
      await sleep(50);
      view = await client.get(outcome.xid);
    }
    expect(view.status).toBe('committing');
    const creditBranch = view.branches.find((br) => br.action === 'wallet.credit')!;
    expect(creditBranch.status).not.toBe('confirmed');
    expect(creditBranch.lastError).toBeTruthy();
    expect(await a.account('alice')).toEqual({ id: 'alice', balance: 70, frozen: 0, incoming: 0 });

    await b.restart();
    await waitForStatus(client, outcome.xid, 'committed');
    expect(await a.account('alice')).toEqual({ id: 'alice', balance: 70, frozen: 0, incoming: 0 });
    expect(await b.account('bob')).toEqual({ id: 'bob', balance: 35, frozen: 0, incoming: 0 });
  });
});
