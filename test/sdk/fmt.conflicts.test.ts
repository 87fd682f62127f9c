import { actionRef, type CoordinatorClient } from '@dtx/participant-sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { requireService } from '../support/services.js';
import { startCoordinator, waitForStatus, type TestCoordinator } from './support/coordinator.js';
import { startWallet, type TestWallet } from './support/wallets.js';

const hasMysql = await requireService('mysql');
const hasPostgres = await requireService('postgres');

/** Debit at one FMT wallet, credit at another (or the same), as one global transaction; `abort` throws after both tries. */
async function move(client: CoordinatorClient, from: [TestWallet, string], to: [TestWallet, string], amount: number, opts: { abort?: boolean; timeoutMs?: number; between?: () => Promise<void> } = {}) {
  return client.transaction(
    async (tx) => {
      await tx.call(actionRef(from[0].url, 'fmtwallet.debit'), { account: from[1], amount }, { branchId: 'debit' });
      await opts.between?.();
      await tx.call(actionRef(to[0].url, 'fmtwallet.credit'), { account: to[1], amount }, { branchId: 'credit' });
      if (opts.abort) throw new Error('the initiator changed its mind');
    },
    { timeoutMs: opts.timeoutMs ?? 20_000 },
  );
}

async function fmtRows(w: TestWallet): Promise<{ undo: number; locks: number }> {
  const n = async (t: string) => Number(((await w.server.knex(t).count({ n: '*' })) as { n: number | string }[])[0]!.n);
  return { undo: await n('dtx_fmt_undo'), locks: await n('dtx_fmt_lock') };
}

describe.runIf(hasMysql && hasPostgres)('FMT wallets under conflicting transactions (MariaDB and PostgreSQL, real HTTP)', () => {
  let coord: TestCoordinator | undefined;
  const wallets: TestWallet[] = [];
  afterEach(async () => {
    for (const w of wallets.splice(0)) {
      w.server.app.server.closeAllConnections();
      await w.close();
    }
    await coord?.close();
  });
  const open = async () => {
    coord = await startCoordinator();
    const a = await startWallet('mysql', { mode: 'fmt' });
    wallets.push(a);
    const b = await startWallet('postgres', { mode: 'fmt' });
    wallets.push(b);
    await a.seed('alice', 500);
    await b.seed('bob', 500);
    return { client: coord.client, a, b };
  };

  // All one way: rows locked in one order. Opposite orders are the next test's.
  it('a hot row on each side, 20 concurrent transfers with random rollbacks and overdrafts: the losers are retried and commit, money conserved, nothing left locked', async () => {
    const { client, a, b } = await open();
    const aborted = new Set([2, 5, 6, 11, 17].map((i) => (i + Math.floor(Math.random() * 3)) % 20));
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => move(client, [a, 'alice'], [b, 'bob'], i % 9 === 4 ? 10_000 : 5 + ((i * 13) % 20), { abort: aborted.has(i) })),
    );
    const finals = await Promise.all(outcomes.map(async (o) => (o.status === 'committed' || o.status === 'rolled_back' ? o.status : (await waitForStatus(client, o.xid, o.status === 'committing' ? 'committed' : 'rolled_back', 30_000)).status)));
    const alice = (await a.account('alice')).balance;
    const bob = (await b.account('bob')).balance;
    expect(alice + bob).toBe(1000);
    expect(Math.min(alice, bob)).toBeGreaterThanOrEqual(0);
    // all but the aborted and the overdrafts waited their turn on the two rows and committed
    expect(finals.filter((f) => f === 'committed').length).toBe(20 - new Set([...aborted, 4, 13]).size);
    expect([await fmtRows(a), await fmtRows(b)]).toEqual([{ undo: 0, locks: 0 }, { undo: 0, locks: 0 }]);
  }, 90_000);

  it('two transactions locking A,B and B,A: no deadlock; the one whose deadline comes first rolls back and the other then commits', async () => {
    const { client, a } = await open();
    await a.seed('carol', 100);
    let debited = 0;
    let release!: () => void;
    const bothDebited = new Promise<void>((r) => (release = r));
    const between = async () => {
      if (++debited === 2) release();
      await bothDebited;
    };
    const started = Date.now();
    const [first, second] = await Promise.all([
      move(client, [a, 'alice'], [a, 'carol'], 10, { timeoutMs: 2500, between }),
      move(client, [a, 'carol'], [a, 'alice'], 20, { timeoutMs: 15_000, between }),
    ]);
    expect(first.status).toBe('rolled_back');
    expect(second.status).toBe('committed');
    expect(Date.now() - started).toBeLessThan(12_000);
    expect([(await a.account('alice')).balance, (await a.account('carol')).balance]).toEqual([520, 80]);
    expect(await fmtRows(a)).toEqual({ undo: 0, locks: 0 });
  }, 60_000);
});
