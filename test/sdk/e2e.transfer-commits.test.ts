import { branchOf, participantRef, type TransactionOutcome } from '@dtx/participant-sdk';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { transfer } from '../../examples/bank/src/transfer.js';
import type { Wallet } from '../../examples/bank/src/wallet.js';
import { storeKinds, type StoreKind } from '../support/services.js';
import { bankPerTest } from './support/bank.js';
import type { TestWallet } from './support/wallets.js';

const kinds = await storeKinds(['sqlite', 'mysql', 'postgres']);
const run = promisify(execFile);

describe('end to end: a transfer commits', () => {
  const openBank = bankPerTest();
  const setUp = (fromKind: StoreKind, toKind: StoreKind) => openBank({ alice: 100, bob: 5, kinds: [fromKind, toKind] });

  async function expectSettled(a: TestWallet, b: TestWallet, alice: number, bob: number) {
    expect(await a.account('alice')).toEqual({ id: 'alice', balance: alice, frozen: 0, incoming: 0 });
    expect(await b.account('bob')).toEqual({ id: 'bob', balance: bob, frozen: 0, incoming: 0 });
    expect(alice + bob).toBe(105);
  }

  it.each(kinds.map((k) => [k, kinds[(kinds.indexOf(k) + 1) % kinds.length]!] as const))(
    'initiator mode, wallet on %s to wallet on %s: 30 moves, confirmed on both',
    async (fromKind, toKind) => {
      const { a, b, client } = await setUp(fromKind, toKind);
      const outcome: TransactionOutcome<void> = await transfer(client, { from: { walletUrl: a.url, account: 'alice' }, to: { walletUrl: b.url, account: 'bob' }, amount: 30 });
      expect(outcome.status).toBe('committed');
      await expectSettled(a, b, 70, 35);
      const view = await client.get(outcome.xid);
      expect(view.status).toBe('committed');
      expect(view.branches.map((br) => [br.branchId, br.status])).toEqual([
        ['debit', 'confirmed'],
        ['credit', 'confirmed'],
      ]);
    },
  );

  it('driven mode: the coordinator runs both tries and commits', async () => {
    const { a, b, client } = await setUp('sqlite', 'sqlite');
    const debit = participantRef<Wallet>(a.url, 'wallet').action('debit');
    const credit = participantRef<Wallet>(b.url, 'wallet').action('credit');
    const res = await client.drive({
      timeoutMs: 10_000,
      branches: [branchOf(debit, 'debit', { account: 'alice', amount: 40 }), branchOf(credit, 'credit', { account: 'bob', amount: 40 })],
    });
    expect(res.status).toBe('committed');
    expect(res.branches.find((br) => br.branchId === 'debit')).toMatchObject({ status: 'confirmed', tryResult: { frozen: 40 } });
    await expectSettled(a, b, 60, 45);
  });

  it('npm run example:transfer, as a real process, prints the xid and committed', async () => {
    const { coord, a, b, client } = await setUp('sqlite', 'sqlite');
    const { stdout } = await run(
      'npm',
      ['run', '-s', 'example:transfer', '--', '--coordinator', coord.url, '--from', `${a.url}/alice`, '--to', `${b.url}/bob`, '--amount', '25'],
      { cwd: new URL('../..', import.meta.url).pathname },
    );
    const printed = JSON.parse(stdout.trim().split('\n').at(-1)!) as { xid: string; status: string };
    expect(printed).toEqual({ xid: expect.any(String), status: 'committed' });
    expect((await client.get(printed.xid)).status).toBe('committed');
    await expectSettled(a, b, 75, 30);
  });
});
