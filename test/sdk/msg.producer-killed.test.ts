import type { AttemptView } from '@dtx/protocol';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import knexFactory, { type Knex } from 'knex';
import { afterEach, describe, expect, it } from 'vitest';
import { createMailerServer, type MailerServer } from '../../examples/bank/src/mailer-server.js';
import { freePort } from '../support/free-port.js';
import { api, eventually } from '../support/http.js';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';
import { startCoordinator, waitForStatus, type TestCoordinator } from './support/coordinator.js';
import { startCoordinatorFront, type CoordinatorFront } from './support/coordinator-front.js';
import { spawnWallet, type WalletProcess } from './support/wallet-process.js';

const kinds = await storeKinds(['sqlite', 'postgres', 'mysql']);
const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;
/** The message's deadline: the check-back comes this long after the prepare. */
const TIMEOUT_MS = 2000;

/**
 * "Account opened → welcome mail" with the wallet (the producer) as a real process that is
 * SIGKILLed at a chosen point, then started again on its database so the coordinator's
 * check-back can reach it.
 */
describe.each(kinds)('a message whose producer is killed, producer database on %s', (kind) => {
  let coord: TestCoordinator | undefined;
  let front: CoordinatorFront | undefined;
  let mailer: MailerServer | undefined;
  let mailerDb: FreshDatabase | undefined;
  let walletDb: FreshDatabase | undefined;
  let wallets: WalletProcess[] = [];
  afterEach(async () => {
    for (const w of wallets) await w.kill('SIGTERM');
    await front?.close();
    await mailer?.close();
    await coord?.close();
    await mailerDb?.drop();
    await walletDb?.drop();
    wallets = [];
    coord = front = mailer = mailerDb = walletDb = undefined;
  });

  async function setUp() {
    coord = await startCoordinator();
    front = await startCoordinatorFront(coord.url);
    mailerDb = await freshDatabase('sqlite', 'mailer');
    mailer = createMailerServer({ databaseUrl: mailerDb.url, port: 0 });
    await mailer.start();
    walletDb = await freshDatabase(kind, 'producer');
    const port = await freePort();
    const startProducer = async () => {
      const w = await spawnWallet({ port, databaseUrl: walletDb!.url, coordinatorUrl: front!.url, mailerUrl: mailer!.url, messageTimeoutMs: TIMEOUT_MS });
      wallets.push(w);
      return w;
    };
    return { wallet: await startProducer(), startProducer, client: coord.client };
  }

  const open = (walletUrl: string, id: string) => fetch(`${walletUrl}/accounts/${id}/open`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"balance":10}' });
  const mails = async (account: string) => ((await (await fetch(`${mailer!.url}/mails/${account}`)).json()) as { items: unknown[] }).items;
  const xidOf = (url: string) => decodeURIComponent(/^\/v1\/transactions\/([^/]+)\/commit$/.exec(url)![1]!);

  it('npm run example:open-account: the producer commits and calls commit, the welcome mail is delivered once', async () => {
    const { wallet, client } = await setUp();
    const { stdout } = await run('npm', ['run', '-s', 'example:open-account', '--', '--wallet', wallet.url, '--account', 'carol', '--balance', '10'], { cwd: ROOT });
    const { xid, status } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { xid: string; status: string };
    expect(status).toBe('committing');
    await waitForStatus(client, xid, 'committed');
    expect(await mails('carol')).toEqual([{ id: `${xid}/welcome`, account: 'carol', kind: 'welcome' }]);
    expect(await (await fetch(`${wallet.url}/accounts/carol`)).json()).toMatchObject({ id: 'carol', balance: 10 });
  });

  it('killed between its local commit and the commit call: the check-back finds the local commit and the mail is delivered', async () => {
    const { wallet, startProducer, client } = await setUp();
    front!.holdWhen((r) => r.method === 'POST' && r.url.endsWith('/commit'));
    void open(wallet.url, 'dora').catch(() => {}); // its answer never comes: the wallet dies
    await eventually(async () => front!.held.length === 1);
    const xid = xidOf(front!.held[0]!.url);
    await wallet.kill();
    expect((await client.get(xid)).status).toBe('trying'); // the commit never reached the coordinator

    const again = await startProducer(); // the check URL answers again, from the same database
    const view = await waitForStatus(client, xid, 'committed');
    expect(view.branches.map((b) => [b.branchId, b.status])).toEqual([['welcome', 'delivered']]);
    expect(await mails('dora')).toEqual([{ id: `${xid}/welcome`, account: 'dora', kind: 'welcome' }]);
    expect(await (await fetch(`${again.url}/accounts/dora`)).json()).toMatchObject({ id: 'dora', balance: 10 });
    const checks = (await api<{ items: AttemptView[] }>(coord!.url, 'GET', `/v1/transactions/${xid}/attempts`)).body.items.filter((a) => a.phase === 'check');
    expect(checks.at(-1)).toMatchObject({ httpStatus: 200, ok: true });
  });

  it.runIf(kind !== 'sqlite')('killed inside its local transaction: no account, the check-back rolls the message back, no mail', async () => {
    const { wallet, startProducer, client } = await setUp();
    // an open transaction of the test's own holds the key `erin`: the wallet's insert waits on it, inside its local transaction
    const blocker: Knex = knexFactory({ client: kind === 'mysql' ? 'mysql2' : 'pg', connection: walletDb!.url, pool: { min: 0, max: 2 } });
    const trx = await blocker.transaction();
    try {
      await trx('accounts').insert({ id: 'erin', balance: 0, frozen: 0, incoming: 0 });
      void open(wallet.url, 'erin').catch(() => {});
      // the wallet's session waits on that key: it is inside its local transaction, its barrier rows written and uncommitted
      await eventually(async () => (await lockWaitsIn(blocker, kind)) === 1);
      await wallet.kill();
    } finally {
      await trx.rollback();
      await blocker.destroy();
    }
    const xid = (await client.list({})).items[0]!.xid;
    await startProducer();
    await waitForStatus(client, xid, 'rolled_back');
    const checks = (await api<{ items: AttemptView[] }>(coord!.url, 'GET', `/v1/transactions/${xid}/attempts`)).body.items.filter((a) => a.phase === 'check');
    expect(checks.at(-1)).toMatchObject({ httpStatus: 409 });
    expect(await mails('erin')).toEqual([]);
    expect((await fetch(`${wallets.at(-1)!.url}/accounts/erin`)).status).toBe(404);
  });

  it('killed before its local transaction began (the prepare answered, the wallet gone): rolled back by the check-back, no mail, no account', async () => {
    const { wallet, startProducer, client } = await setUp();
    // the begin reaches the coordinator; its answer never reaches the wallet
    front!.holdWhen((r) => r.method === 'POST' && r.url === '/v1/transactions');
    void open(wallet.url, 'fred').catch(() => {});
    await eventually(async () => front!.held.length === 1);
    const { xid } = JSON.parse(front!.held[0]!.body) as { xid: string };
    await fetch(`${coord!.url}/v1/transactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: front!.held[0]!.body });
    await wallet.kill();
    const again = await startProducer();
    await waitForStatus(client, xid, 'rolled_back');
    expect(await mails('fred')).toEqual([]);
    expect((await fetch(`${again.url}/accounts/fred`)).status).toBe(404);
  });
});

/** Sessions of this database waiting for a row lock. */
async function lockWaitsIn(knex: Knex, kind: 'mysql' | 'postgres' | 'sqlite'): Promise<number> {
  if (kind === 'postgres') {
    const res = (await knex.raw("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")) as { rows: { n: number }[] };
    return res.rows[0]!.n;
  }
  const [rows] = (await knex.raw(
    "SELECT count(*) AS n FROM information_schema.innodb_trx t JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id WHERE t.trx_state = 'LOCK WAIT' AND p.db = DATABASE()",
  )) as [{ n: number }[]];
  return Number(rows[0]!.n);
}
