import { branchOf, participantRef, type CoordinatorClient } from '@dtx/participant-sdk';
import type { TxStatus } from '@dtx/protocol';
import { describe, expect, it } from 'vitest';
import { transfer } from '../../examples/bank/src/transfer.js';
import type { Wallet } from '../../examples/bank/src/wallet.js';
import { storeKinds } from '../support/services.js';
import { bankPerTest } from './support/bank.js';
import { waitForStatus } from './support/coordinator.js';

const kinds = await storeKinds(['sqlite', 'mysql', 'postgres']);
const TRANSFERS = 60;

describe.each(kinds)('end to end: many concurrent transfers between two wallets on %s', (kind) => {
  const openBank = bankPerTest();

  it(`conserve money and leave nothing frozen (${TRANSFERS} transfers both ways, driven and initiator, with overdrafts)`, async () => {
    const { a, b, client } = await openBank({ alice: 300, bob: 300, kinds: [kind, kind] });
    const sides = [
      { walletUrl: a.url, account: 'alice' },
      { walletUrl: b.url, account: 'bob' },
    ] as const;

    const runs = Array.from({ length: TRANSFERS }, async (_, i) => {
      const [from, to] = i % 2 === 0 ? [sides[0], sides[1]] : [sides[1], sides[0]];
      // Amounts up to 120 against balances of 300: some of them overdraw under contention.
      const amount = 10 + ((i * 37) % 111);
      if (i % 3 === 0) return drive(client, from, to, amount);
      return (await transfer(client, { from, to, amount, timeoutMs: 20_000 })).xid;
    });
    const xids = await Promise.all(runs);

    const finals: TxStatus[] = [];
    for (const xid of xids) {
      const view = await client.get(xid);
      finals.push(view.status === 'committed' || view.status === 'rolled_back' ? view.status : (await waitForStatus(client, xid, view.status === 'committing' ? 'committed' : 'rolled_back')).status);
    }
    const alice = await a.account('alice');
    const bob = await b.account('bob');
    expect({ frozen: alice.frozen + bob.frozen, incoming: alice.incoming + bob.incoming }).toEqual({ frozen: 0, incoming: 0 });
    expect(alice.balance + bob.balance).toBe(600);
    expect(alice.balance).toBeGreaterThanOrEqual(0);
    expect(bob.balance).toBeGreaterThanOrEqual(0);
    // Both outcomes happened, so the run exercised commits and rollbacks.
    expect(finals).toContain('committed');
    expect(finals).toContain('rolled_back');
  });
});

async function drive(client: CoordinatorClient, from: { walletUrl: string; account: string }, to: { walletUrl: string; account: string }, amount: number): Promise<string> {
  const debit = participantRef<Wallet>(from.walletUrl, 'wallet').action('debit');
  const credit = participantRef<Wallet>(to.walletUrl, 'wallet').action('credit');
  const res = await client.drive({
    timeoutMs: 20_000,
    branches: [branchOf(debit, 'debit', { account: from.account, amount }), branchOf(credit, 'credit', { account: to.account, amount })],
  });
  return res.xid;
}
