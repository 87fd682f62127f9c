import { branchOf, participantRef, xaFormatIdOf, type CoordinatorClient } from '@dtx/participant-sdk';
import type { TxStatus } from '@dtx/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { transfer, type AccountAt } from '../../examples/bank/src/transfer.js';
import type { Wallet } from '../../examples/bank/src/wallet.js';
import { requireService } from '../support/services.js';
import { startCoordinator, waitForStatus, type TestCoordinator } from './support/coordinator.js';
import { startWallet, type TestWallet } from './support/wallets.js';

const mysql = await requireService('mysql');
const TRANSFERS = 60;

describe.runIf(mysql)('end to end: transfers between a TCC wallet and an XA wallet, both on MariaDB', () => {
  let coord: TestCoordinator | undefined;
  const wallets: TestWallet[] = [];
  afterEach(async () => {
    for (const w of wallets.splice(0)) {
      // A try answered after its caller gave up (its socket gone) keeps fastify's close waiting: drop what is left.
      w.server.app.server.closeAllConnections();
      await w.close();
    }
    await coord?.close();
  });

  const open = async () => {
    coord = await startCoordinator();
    const tcc = await startWallet('mysql');
    wallets.push(tcc);
    const xa = await startWallet('mysql', { mode: 'xa' });
    wallets.push(xa);
    await tcc.seed('alice', 300);
    await xa.seed('bob', 300);
    const alice: AccountAt = { walletUrl: tcc.url, account: 'alice', participant: 'wallet' };
    const bob: AccountAt = { walletUrl: xa.url, account: 'bob', participant: 'xawallet' };
    return { client: coord.client, tcc, xa, alice, bob };
  };

  it('commits both ways in initiator and driven mode; an overdraft at the XA wallet rolls back', async () => {
    const { client, tcc, xa, alice, bob } = await open();
    expect((await transfer(client, { from: alice, to: bob, amount: 50 })).status).toBe('committed');
    expect((await transfer(client, { from: bob, to: alice, amount: 20 })).status).toBe('committed');
    expect((await drive(client, bob, alice, 10)).status).toBe('committed');
    expect((await drive(client, alice, bob, 5)).status).toBe('committed');
    expect((await transfer(client, { from: bob, to: alice, amount: 10_000 })).status).toBe('rolled_back');
    expect((await drive(client, bob, alice, 10_000)).status).toBe('rolled_back');
    expect(await xa.account('bob')).toEqual({ id: 'bob', balance: 325 });
    expect(await tcc.account('alice')).toEqual({ id: 'alice', balance: 275, frozen: 0, incoming: 0 });
    expect(await preparedBranches(xa)).toBe(0);
  });

  it(`many concurrent transfers conserve money (${TRANSFERS}, both ways, driven and initiator, with overdrafts)`, async () => {
    const { client, tcc, xa, alice, bob } = await open();
    const xids = await Promise.all(
      Array.from({ length: TRANSFERS }, async (_, i) => {
        const [from, to] = i % 2 === 0 ? [alice, bob] : [bob, alice];
        const amount = 10 + ((i * 37) % 111);
        if (i % 3 === 0) return (await drive(client, from, to, amount)).xid;
        return (await transfer(client, { from, to, amount, timeoutMs: 30_000 })).xid;
      }),
    );
    const finals: TxStatus[] = [];
    for (const xid of xids) {
      const view = await client.get(xid);
      finals.push(view.status === 'committed' || view.status === 'rolled_back' ? view.status : (await waitForStatus(client, xid, view.status === 'committing' ? 'committed' : 'rolled_back', 60_000)).status);
    }
    const a = await tcc.account('alice');
    const b = await xa.account('bob');
    expect({ frozen: a.frozen, incoming: a.incoming }).toEqual({ frozen: 0, incoming: 0 });
    expect(a.balance + b.balance).toBe(600);
    expect(Math.min(a.balance, b.balance)).toBeGreaterThanOrEqual(0);
    expect(finals).toContain('committed');
    expect(await preparedBranches(xa)).toBe(0);
  }, 120_000);
});

function drive(client: CoordinatorClient, from: AccountAt, to: AccountAt, amount: number) {
  const debit = participantRef<Wallet>(from.walletUrl, from.participant!).action('debit');
  const credit = participantRef<Wallet>(to.walletUrl, to.participant!).action('credit');
  return client.drive({
    timeoutMs: 30_000,
    branches: [branchOf(debit, 'debit', { account: from.account, amount }), branchOf(credit, 'credit', { account: to.account, amount })],
  });
}

/** The SDK's prepared branches left in the XA wallet's database (its formatID). */
async function preparedBranches(xa: TestWallet): Promise<number> {
  const knex = xa.server.knex;
  const [rows] = (await knex.raw('XA RECOVER')) as [{ formatID: number; data: string }[]];
  const [[{ db }]] = (await knex.raw('SELECT DATABASE() AS db')) as [[{ db: string }]];
  return rows.filter((r) => Number(r.formatID) === xaFormatIdOf(db)).length;
}
