import { CoordinatorClient, participantRef, TransactionUnfinishedError } from '@dtx/participant-sdk';
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { sagaTransfer } from '../../examples/bank/src/saga-transfer.js';
import type { SagaWallet } from '../../examples/bank/src/saga-wallet.js';
import { freePort } from '../support/free-port.js';
import { freshDatabase, storeKinds, type FreshDatabase, type StoreKind } from '../support/services.js';
import { bankPerTest } from './support/bank.js';
import { startCoordinator, type TestCoordinator } from './support/coordinator.js';
import { startWalletPair, type TestWallet } from './support/wallets.js';

const kinds = await storeKinds(['sqlite', 'mysql', 'postgres']);
const run = promisify(execFile);

describe('saga transfer: the coordinator runs the steps, and compensates them on a refusal', () => {
  const openBank = bankPerTest();
  const pairs = kinds.map((k) => [k, kinds[(kinds.indexOf(k) + 1) % kinds.length]!] as [StoreKind, StoreKind]);

  it.each(pairs)('wallet on %s to wallet on %s: debit then credit, committed, 30 moved', async (fromKind, toKind) => {
    const { a, b, client } = await openBank({ alice: 100, bob: 5, kinds: [fromKind, toKind] });
    const outcome = await sagaTransfer(client, { from: { walletUrl: a.url, account: 'alice' }, to: { walletUrl: b.url, account: 'bob' }, amount: 30 });
    expect(outcome).toMatchObject({ status: 'committed', reason: null });
    expect(outcome.steps.map((s) => [s.branchId, s.status, s.result])).toEqual([
      ['debit', 'done', { debited: 30 }],
      ['credit', 'done', { credited: 30 }],
    ]);
    expect(await a.account('alice')).toMatchObject({ balance: 70 });
    expect(await b.account('bob')).toMatchObject({ balance: 35 });
    expect((await client.get(outcome.xid)).mode).toBe('saga');
  });

  it('a credit refused (unknown account) compensates the debit: rolled_back, alice has her 100 again', async () => {
    const { a, b, client } = await openBank({ alice: 100, bob: 5 });
    const outcome = await sagaTransfer(client, { from: { walletUrl: a.url, account: 'alice' }, to: { walletUrl: b.url, account: 'nobody' }, amount: 30 });
    expect(outcome.status).toBe('rolled_back');
    expect(outcome.reason).toContain('unknown account nobody');
    // the refused credit was called, so it is compensated too: an empty compensation on its wallet
    expect(outcome.steps.map((s) => [s.branchId, s.status])).toEqual([
      ['debit', 'compensated'],
      ['credit', 'compensated'],
    ]);
    expect(await a.account('alice')).toMatchObject({ balance: 100 });
    expect(await b.account('bob')).toMatchObject({ balance: 5 });
  });

  it('steps with `after` run in parallel and pass results on; resultOf reads each one typed', async () => {
    const { a, b, client } = await openBank({ alice: 100, bob: 100 });
    const debitA = participantRef<SagaWallet>(a.url, 'sagawallet').sagaAction('debit');
    const debitB = participantRef<SagaWallet>(b.url, 'sagawallet').sagaAction('debit');
    const credit = participantRef<SagaWallet>(a.url, 'sagawallet').sagaAction('credit');
    const saga = client.saga({ timeoutMs: 10_000 });
    const fromAlice = saga.step(debitA, { account: 'alice', amount: 10 }, { after: [] });
    const fromBob = saga.step(debitB, { account: 'bob', amount: 20 }, { after: [] });
    saga.step(credit, { account: 'alice', amount: 30 }, { branchId: 'pool', after: [fromAlice, fromBob] });
    const outcome = await saga.run();
    expect(outcome.status).toBe('committed');
    const debited: number | undefined = outcome.resultOf(fromBob)?.debited;
    expect(debited).toBe(20);
    expect(outcome.resultOf(fromAlice)).toEqual({ debited: 10 });
    expect(outcome.steps.map((s) => s.branchId)).toEqual(['s1.sagawallet.debit', 's2.sagawallet.debit', 'pool']);
    expect(await a.account('alice')).toMatchObject({ balance: 120 });
    expect(await b.account('bob')).toMatchObject({ balance: 80 });
  });

  it('wait: false answers once the saga is logged; the coordinator finishes it', async () => {
    const { a, b, client } = await openBank({ alice: 100, bob: 0 });
    const saga = client.saga({ wait: false });
    saga.step(participantRef<SagaWallet>(a.url, 'sagawallet').sagaAction('debit'), { account: 'alice', amount: 1 });
    saga.step(participantRef<SagaWallet>(b.url, 'sagawallet').sagaAction('credit'), { account: 'bob', amount: 1 });
    const outcome = await saga.run();
    expect(['trying', 'committed']).toContain(outcome.status);
    for (let i = 0; i < 200 && (await client.get(outcome.xid)).status !== 'committed'; i++) await sleep(50);
    expect((await client.get(outcome.xid)).status).toBe('committed');
    expect(await b.account('bob')).toMatchObject({ balance: 1 });
  });

  it('npm run example:transfer -- --saga, as a real process: committed, then a refused credit rolled back with the reason on stderr', async () => {
    const { coord, a, b } = await openBank({ alice: 100, bob: 5 });
    const cli = (to: string) =>
      run('npm', ['run', '-s', 'example:transfer', '--', '--saga', '--coordinator', coord.url, '--from', `${a.url}/alice`, '--to', `${b.url}/${to}`, '--amount', '25'], {
        cwd: new URL('../..', import.meta.url).pathname,
      });
    const ok = await cli('bob');
    expect(JSON.parse(ok.stdout.trim().split('\n').at(-1)!)).toEqual({ xid: expect.any(String), status: 'committed' });
    const refused = await cli('nobody');
    expect(JSON.parse(refused.stdout.trim().split('\n').at(-1)!)).toMatchObject({ status: 'rolled_back' });
    expect(refused.stderr).toContain('unknown account nobody');
    expect(await a.account('alice')).toMatchObject({ balance: 75 });
    expect(await b.account('bob')).toMatchObject({ balance: 30 });
  });

  it('an `after` naming an unknown step is the coordinator\'s 400 INVALID_REQUEST, and nothing runs', async () => {
    const { a, client } = await openBank({ alice: 100, bob: 0 });
    const saga = client.saga();
    saga.step(participantRef<SagaWallet>(a.url, 'sagawallet').sagaAction('debit'), { account: 'alice', amount: 1 }, { after: [{ branchId: 'ghost', action: 'x' }] });
    await expect(saga.run()).rejects.toMatchObject({ code: 'INVALID_REQUEST', status: 400 });
    expect(await a.account('alice')).toMatchObject({ balance: 100 });
    expect(() => saga.step(participantRef<SagaWallet>(a.url, 'sagawallet').sagaAction('debit'), { account: 'alice', amount: 1 })).toThrow('has already run');
  });
});

describe('saga() across coordinator blips', () => {
  let db: FreshDatabase | undefined;
  let coord: TestCoordinator | undefined;
  let wallets: TestWallet[] = [];
  let client: CoordinatorClient | undefined;
  afterEach(async () => {
    await client?.close();
    for (const w of wallets) await w.close();
    await coord?.close();
    await db?.drop();
    wallets = [];
    coord = client = db = undefined;
  });

  async function setUp() {
    db = await freshDatabase('sqlite', 'saga_blips');
    const [a, b] = await startWalletPair(100, 0);
    wallets.push(a, b);
    const port = await freePort();
    client = new CoordinatorClient({ url: `http://127.0.0.1:${port}`, requestTimeoutMs: 2000 });
    return { a, b, port, client };
  }

  it('a coordinator that comes up only after the begin was sent: the begin is repeated with its xid, and the saga commits once', async () => {
    const { a, b, port, client } = await setUp();
    const outcome = sagaTransfer(client, { from: { walletUrl: a.url, account: 'alice' }, to: { walletUrl: b.url, account: 'bob' }, amount: 30, timeoutMs: 20_000 });
    await sleep(800); // the first begins find nothing listening
    coord = await startCoordinator({ db: db!, port });
    await expect(outcome).resolves.toMatchObject({ status: 'committed' });
    expect((await coord.client.list({})).items).toHaveLength(1);
    expect(await a.account('alice')).toMatchObject({ balance: 70 });
    expect(await b.account('bob')).toMatchObject({ balance: 30 });
  });

  it('a coordinator that never comes up: TransactionUnfinishedError at the deadline, saying what becomes of the saga', async () => {
    const { a, b, client } = await setUp();
    const err = await sagaTransfer(client, { from: { walletUrl: a.url, account: 'alice' }, to: { walletUrl: b.url, account: 'bob' }, amount: 30, timeoutMs: 1500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransactionUnfinishedError);
    expect(err).toMatchObject({ code: 'TX_UNFINISHED', state: 'saga_submitted' });
    expect(await a.account('alice')).toMatchObject({ balance: 100 });
  });
});
