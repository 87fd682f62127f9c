import { afterEach, describe, expect, it } from 'vitest';
import { transfer, type AccountAt } from '../../examples/bank/src/transfer.js';
import { requireService } from '../support/services.js';
import { startCoordinator, waitForStatus, type TestCoordinator } from './support/coordinator.js';
import { startWallet, type TestWallet } from './support/wallets.js';

const hasMysql = await requireService('mysql');
const hasPostgres = await requireService('postgres');

describe.runIf(hasMysql && hasPostgres)('end to end: the example moves money between a TCC, an XA and an FMT wallet', () => {
  let coord: TestCoordinator | undefined;
  const wallets: TestWallet[] = [];
  afterEach(async () => {
    for (const w of wallets.splice(0)) {
      w.server.app.server.closeAllConnections();
      await w.close();
    }
    await coord?.close();
  });

  it('transfers around the three (one an overdraft at the FMT wallet): balances conserved, nothing left reserved, prepared or locked', async () => {
    coord = await startCoordinator();
    const tcc = await startWallet('mysql');
    const xa = await startWallet('mysql', { mode: 'xa' });
    const fmt = await startWallet('postgres', { mode: 'fmt' });
    wallets.push(tcc, xa, fmt);
    await tcc.seed('alice', 300);
    await xa.seed('bob', 300);
    await fmt.seed('dave', 300);
    const alice: AccountAt = { walletUrl: tcc.url, account: 'alice', participant: 'wallet' };
    const bob: AccountAt = { walletUrl: xa.url, account: 'bob', participant: 'xawallet' };
    const dave: AccountAt = { walletUrl: fmt.url, account: 'dave', participant: 'fmtwallet' };
    const hops: [AccountAt, AccountAt, number][] = [[alice, dave, 40], [dave, bob, 25], [bob, alice, 10], [dave, alice, 7], [alice, bob, 3], [bob, dave, 12]];
    // One after the other: XA and FMT both hold rows until phase 2, so concurrent transfers around a
    // cycle (A→B, B→C, C→A) can wait on each other until a deadline rolls one back (see the SDK README).
    for (const [from, to, amount] of [...hops, ...hops]) {
      const o = await transfer(coord.client, { from, to, amount, timeoutMs: 20_000 });
      if (o.status !== 'committed') await waitForStatus(coord.client, o.xid, 'committed', 20_000);
    }
    expect((await transfer(coord.client, { from: dave, to: alice, amount: 10_000 })).status).toBe('rolled_back');
    const a = await tcc.account('alice');
    const b = await xa.account('bob');
    const d = await fmt.account('dave');
    expect({ frozen: a.frozen, incoming: a.incoming }).toEqual({ frozen: 0, incoming: 0 });
    expect([a.balance, b.balance, d.balance]).toEqual([300 + 2 * (10 + 7 - 40 - 3), 300 + 2 * (25 + 3 - 10 - 12), 300 + 2 * (40 + 12 - 25 - 7)]);
    const n = async (t: string) => Number(((await fmt.server.knex(t).count({ n: '*' })) as { n: string }[])[0]!.n);
    expect([await n('dtx_fmt_undo'), await n('dtx_fmt_lock')]).toEqual([0, 0]);
  }, 60_000);
});
