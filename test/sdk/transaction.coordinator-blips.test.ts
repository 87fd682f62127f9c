import { CoordinatorClient, participantRef, TransactionUnfinishedError } from '@dtx/participant-sdk';
import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { Wallet } from '../../examples/bank/src/wallet.js';
import { freshDatabase, type FreshDatabase } from '../support/services.js';
import { startCoordinator, waitForStatus, type TestCoordinator } from './support/coordinator.js';
import { startWalletPair, type TestWallet } from './support/wallets.js';
import { freePort } from '../support/free-port.js';

/** The coordinator restarting, or its store down, under an initiator: transaction() waits it out until the deadline. */
describe('transaction() across coordinator blips', () => {
  let db: FreshDatabase;
  let coords: TestCoordinator[] = [];
  let wallets: TestWallet[] = [];
  let servers: Server[] = [];
  let clients: CoordinatorClient[] = [];
  afterEach(async () => {
    for (const c of clients) await c.close();
    for (const s of servers) await new Promise((r) => s.close(r));
    for (const w of wallets) await w.close();
    for (const c of coords) await c.close();
    await db?.drop();
    coords = [];
    wallets = [];
    servers = [];
    clients = [];
  });

  async function setUp() {
    db = await freshDatabase('sqlite', 'blips');
    const [a, b] = await startWalletPair(100, 0);
    wallets.push(a, b);
    const port = await freePort();
    const client = new CoordinatorClient({ url: `http://127.0.0.1:${port}`, requestTimeoutMs: 2000 });
    clients.push(client);
    const coordinatorUp = async () => {
      const c = await startCoordinator({ db, port });
      coords.push(c);
      return c;
    };
    const transfer = (amount: number, timeoutMs: number, between?: () => Promise<void>) =>
      client.transaction(
        async (tx) => {
          await tx.call(participantRef<Wallet>(a.url, 'wallet').action('debit'), { account: 'alice', amount });
          await between?.();
          await tx.call(participantRef<Wallet>(b.url, 'wallet').action('credit'), { account: 'bob', amount });
        },
        { timeoutMs },
      );
    return { a, b, port, client, coordinatorUp, transfer };
  }

  it('a coordinator that is not up yet when the begin is sent: the begin is repeated with its xid, and the transfer commits', async () => {
    const { a, b, coordinatorUp, transfer } = await setUp();
    const outcome = transfer(30, 20_000);
    await sleep(800); // the first begins find nothing listening
    const coord = await coordinatorUp();
    await expect(outcome).resolves.toMatchObject({ status: 'committed' });
    expect((await coord.client.list({})).items).toHaveLength(1); // one xid, however many begins were sent
    expect(await a.account('alice')).toMatchObject({ balance: 70, frozen: 0 });
    expect(await b.account('bob')).toMatchObject({ balance: 30, incoming: 0 });
  });

  it('a begin answered 503 STORE_UNAVAILABLE with Retry-After is repeated after it, and the transfer commits', async () => {
    const { a, b } = await setUp();
    const coord = await startCoordinator({ db });
    coords.push(coord);
    // in front of the coordinator, the first begin meets a store that is down
    const begins: number[] = [];
    const front = createServer(async (req, res) => {
      const body = await readBody(req);
      if (req.method === 'POST' && req.url === '/v1/transactions' && begins.push(Date.now()) === 1) {
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end(JSON.stringify({ error: { code: 'STORE_UNAVAILABLE', message: 'the transaction log cannot be written' } }));
        return;
      }
      const upstream = await request(`${coord.url}${req.url}`, { method: req.method as 'POST', headers: { 'content-type': 'application/json' }, body: body || undefined });
      res.writeHead(upstream.statusCode, { 'content-type': 'application/json' });
      res.end(await upstream.body.text());
    });
    servers.push(front);
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    const client = new CoordinatorClient({ url: `http://127.0.0.1:${(front.address() as AddressInfo).port}` });
    clients.push(client);
    const outcome = await client.transaction(async (tx) => {
      await tx.call(participantRef<Wallet>(a.url, 'wallet').action('debit'), { account: 'alice', amount: 10 });
      await tx.call(participantRef<Wallet>(b.url, 'wallet').action('credit'), { account: 'bob', amount: 10 });
    });
    expect(outcome.status).toBe('committed');
    expect(begins).toHaveLength(2);
    expect(begins[1]! - begins[0]!).toBeGreaterThanOrEqual(900); // Retry-After: 1 honoured
    expect(await b.account('bob')).toMatchObject({ balance: 10 });
  });

  it('a coordinator restarted between two tries: the registration and the commit are repeated, and the transfer commits', async () => {
    const { a, b, coordinatorUp, transfer } = await setUp();
    let coord = await coordinatorUp();
    const outcome = await transfer(40, 20_000, async () => {
      await coord.close();
      coords = coords.filter((c) => c !== coord);
      setTimeout(() => void coordinatorUp().then((c) => (coord = c)), 700);
    });
    expect(outcome.status).toBe('committed');
    expect(await a.account('alice')).toMatchObject({ balance: 60, frozen: 0 });
    expect(await b.account('bob')).toMatchObject({ balance: 40, incoming: 0 });
  });

  it('a coordinator gone until past the deadline: TransactionUnfinishedError says it is rolled back at its deadline, and it is', async () => {
    const { a, coordinatorUp, transfer } = await setUp();
    const first = await coordinatorUp();
    const failure = await transfer(25, 1500, async () => {
      await first.close();
      coords = [];
    }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TransactionUnfinishedError);
    expect(failure).toMatchObject({ code: 'TX_UNFINISHED', state: 'trying' });
    expect((failure as Error).message).toContain('still trying: it will be rolled back at its deadline');
    expect(await a.account('alice')).toMatchObject({ balance: 75, frozen: 25 }); // the debit's reservation waits for the rollback

    const back = await coordinatorUp();
    await waitForStatus(back.client, (failure as TransactionUnfinishedError).xid, 'rolled_back');
    expect(await a.account('alice')).toMatchObject({ balance: 100, frozen: 0 });
  });

  it('no coordinator at all: the begin gives up at the deadline with TransactionUnfinishedError, not a connection error', async () => {
    const { transfer } = await setUp();
    const started = Date.now();
    const failure = await transfer(5, 1000).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TransactionUnfinishedError);
    expect(failure).toMatchObject({ state: 'not_begun' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('the example transfer CLI prints a give-up as one line and exits non-zero, without a stack trace', async () => {
    const { a, b, port } = await setUp();
    const cli = promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'examples/bank/bin/transfer.ts', '--coordinator', `http://127.0.0.1:${port}`, '--from', `${a.url}/alice`, '--to', `${b.url}/bob`, '--amount', '5', '--timeout', '1000'],
      { env: { ...process.env } },
    );
    const failed = (await cli.catch((e: unknown) => e)) as { code: number; stdout: string; stderr: string };
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim().split('\n')).toHaveLength(1);
    expect(failed.stderr).toContain('rolled back at its deadline');
    expect(failed.stderr).not.toMatch(/^\s+at /m);
  });
});


async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
}
