import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import knexFactory from 'knex';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api } from '../support/http.js';
import { freshDatabase, requireService, type FreshDatabase } from '../support/services.js';

/**
 * DTX as a user meets it: the three workspaces packed, the tarballs installed into a
 * project outside this repository next to fastify, knex, mysql2 and typescript from the
 * registry, a decorated participant and an initiator compiled by plain tsc and run by
 * plain node, and the coordinator started with `npx dtx serve` from its package. Any
 * file a package needs at run time and does not ship fails a step here. Beside it, from
 * the same tarballs, a NestJS service laid out as `nest new` lays it out (CommonJS,
 * experimentalDecorators), installed while the first project installs.
 */
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./user-project', import.meta.url));
const NEST_FIXTURE = fileURLToPath(new URL('./nest-project', import.meta.url));
const run = promisify(execFile);
const INSTALL_MS = 8 * 60_000;

let work: string;
let app: string;
let nestApp: string;
let wallets: FreshDatabase;
let expressWallets: FreshDatabase | undefined;
let nestWallets: FreshDatabase | undefined;
/** The coordinator and the fastify wallet the first test starts, which the Express and Nest wallets' tests transfer with. */
let running: { coordinator: string; wallet: string } | undefined;
const children: ChildProcess[] = [];

beforeAll(async () => {
  await requireService('mysql');
  work = mkdtempSync(join(tmpdir(), 'dtx-user-'));
  app = join(work, 'app');
  nestApp = join(work, 'nest-app');
  const packs = join(work, 'packs');
  mkdirSync(packs);
  await run('npm', ['pack', '--workspaces', '--pack-destination', packs], { cwd: REPO, maxBuffer: 64 << 20 });
  const tarball = (name: string) => join(packs, readdirSync(packs).find((f) => f.startsWith(`dtx-${name}-`))!);
  cpSync(FIXTURE, app, { recursive: true });
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'a-users-service',
      private: true,
      type: 'module',
      // this machine's npm runs no dependency install scripts unless listed (better-sqlite3 builds from source)
      allowScripts: { 'better-sqlite3': true },
      dependencies: {
        '@dtx/protocol': `file:${tarball('protocol')}`,
        '@dtx/participant-sdk': `file:${tarball('participant-sdk')}`,
        '@dtx/coordinator': `file:${tarball('coordinator')}`,
        fastify: '^5.6.1',
        express: '^5.1.0',
        knex: '^3.1.0',
        mysql2: '^3.15.2',
      },
      devDependencies: { typescript: '~5.9.3', '@types/node': '^20.19.0', '@types/express': '^5.0.0' },
    }),
  );
  // the Nest service's package.json as its template has it, plus the SDK: no coordinator, so nothing to build natively
  cpSync(NEST_FIXTURE, nestApp, { recursive: true });
  const nestPackage = JSON.parse(readFileSync(join(nestApp, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  Object.assign(nestPackage.dependencies, { '@dtx/protocol': `file:${tarball('protocol')}`, '@dtx/participant-sdk': `file:${tarball('participant-sdk')}` });
  writeFileSync(join(nestApp, 'package.json'), JSON.stringify(nestPackage, null, 2));
  const install = (cwd: string) => run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd, maxBuffer: 64 << 20, timeout: INSTALL_MS });
  // the Nest service installs and builds while the first project still compiles better-sqlite3 on one core
  await Promise.all([install(app), install(nestApp).then(() => run('npm', ['run', 'build'], { cwd: nestApp }))]);
  wallets = await freshDatabase('mysql', 'user_wallet');
}, INSTALL_MS + 60_000);

afterAll(async () => {
  // npx runs dtx as its child: end the whole process group
  for (const c of children) if (c.exitCode === null && c.signalCode === null) process.kill(-c.pid!, 'SIGKILL');
  await wallets?.drop();
  await expressWallets?.drop();
  await nestWallets?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Starts `command` in the user's project (or `cwd`) and resolves with the URL it prints once listening. */
async function start(command: string, args: string[], env: Record<string, string>, ready: RegExp, cwd = app): Promise<{ url: string; child: ChildProcess }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DTX_') && !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'));
  const child = spawn(command, args, { cwd, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} ${args.join(' ')} did not start:\n${out}`)), 30_000);
    const read = (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, child });
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${out}`));
    });
  });
}

/** Plain node in the user's project, with nothing of this repository's loaders. */
async function node(args: string[], env: Record<string, string> = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DTX_') && !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'));
  return run(process.execPath, args, { cwd: app, env: { ...clean, ...env } });
}

describe('installed from its tarballs into a project of its own', () => {
  test('a decorated participant and an initiator compiled by tsc move money through `npx dtx serve`', async () => {
    await run('npx', ['tsc', '-p', '.'], { cwd: app });
    const { url: coordinator } = await start('npx', ['dtx', 'serve'], { DTX_DATABASE_URL: `sqlite:${join(work, 'log', 'dtx.db')}`, DTX_PORT: '0' }, /listening on (http:\/\/\S+)/);
    const { url: wallet } = await start(process.execPath, ['dist/wallet.js'], { DATABASE_URL: wallets.url, PORT: '0' }, /wallet listening on (http:\/\/\S+)/);

    running = { coordinator, wallet };
    const transfer = async (amount: number) => JSON.parse((await node(['dist/transfer.js', coordinator, wallet, String(amount)])).stdout);
    const balances = async () => [(await api(wallet, 'GET', '/accounts/alice')).body, (await api(wallet, 'GET', '/accounts/bob')).body];

    expect(await transfer(30)).toMatchObject({ status: 'committed' });
    const overdraft = await transfer(1000);
    expect(overdraft).toMatchObject({ status: 'rolled_back' });
    expect(await balances()).toEqual([
      { id: 'alice', balance: 70, frozen: 0, incoming: 0 },
      { id: 'bob', balance: 30, frozen: 0, incoming: 0 },
    ]);
    const logged = await api(coordinator, 'GET', `/v1/transactions/${overdraft.xid}`);
    expect(logged.body).toMatchObject({ status: 'rolled_back', branches: [{ status: 'cancelled' }] });
    // the dashboard ships in the package and is found from dist/; the history is there
    const page = await fetch(`${coordinator}/ui/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="./app.js">');
    expect((await fetch(`${coordinator}/ui/app.js`)).status).toBe(200);
    const calls = await api(coordinator, 'GET', `/v1/transactions/${overdraft.xid}/attempts`);
    expect(calls.body.items.map((a: { phase: string }) => a.phase)).toContain('cancel');
  });

  test('an Express service of the user\'s, on the SDK\'s Express router, takes the credit of a transfer from the fastify wallet', async () => {
    expect(running).toBeDefined();
    const { coordinator, wallet } = running!;
    expressWallets = await freshDatabase('mysql', 'user_express_wallet');
    const { url: other } = await start(process.execPath, ['dist/express-wallet.js'], { DATABASE_URL: expressWallets.url, PORT: '0' }, /express wallet listening on (http:\/\/\S+)/);
    const moved = JSON.parse((await node(['dist/transfer.js', coordinator, wallet, '20', other])).stdout);
    expect(moved).toMatchObject({ status: 'committed' });
    expect((await api(wallet, 'GET', '/accounts/alice')).body).toEqual({ id: 'alice', balance: 50, frozen: 0, incoming: 0 });
    expect((await api(other, 'GET', '/accounts/bob')).body).toEqual({ id: 'bob', balance: 20, frozen: 0, incoming: 0 });
  });

  test("a NestJS service of the user's, built by its `npm run build` (plain tsc to CommonJS) and run by plain node, moves money with the fastify wallet and stops on SIGTERM", async () => {
    expect(running).toBeDefined();
    const { coordinator, wallet } = running!;
    // a participant-only service installs no native module: better-sqlite3 comes with the coordinator only
    expect(existsSync(join(nestApp, 'node_modules', 'better-sqlite3'))).toBe(false);
    nestWallets = await freshDatabase('mysql', 'user_nest_wallet');
    const { url: nest, child: nestProcess } = await start(process.execPath, ['dist/main.js'], { DATABASE_URL: nestWallets.url, PORT: '0' }, /nest wallet listening on (http:\/\/\S+)/, nestApp);
    const account = async (url: string, id: string) => (await api(url, 'GET', `/accounts/${id}`)).body as { id: string; balance: number; frozen: number; incoming: number };
    const balances = async () => ({ fastify: [await account(wallet, 'alice'), await account(wallet, 'bob')], nest: [await account(nest, 'alice'), await account(nest, 'bob')] });
    const total = (b: Awaited<ReturnType<typeof balances>>) => [...b.fastify, ...b.nest].reduce((sum, a) => sum + a.balance + a.frozen + a.incoming, 0);
    // transfer.js debits alice at its first wallet and credits bob at the second
    const transfer = async (from: string, to: string, amount: number) => JSON.parse((await node(['dist/transfer.js', coordinator, from, String(amount), to])).stdout);
    const before = await balances();

    expect(await transfer(wallet, nest, 20)).toMatchObject({ status: 'committed' });
    expect(await transfer(nest, wallet, 15)).toMatchObject({ status: 'committed' });
    expect(await transfer(nest, wallet, 1000)).toMatchObject({ status: 'rolled_back' });
    const after = await balances();
    expect(after.nest).toEqual([
      { id: 'alice', balance: 85, frozen: 0, incoming: 0 },
      { id: 'bob', balance: 20, frozen: 0, incoming: 0 },
    ]);
    expect(after.fastify).toEqual([
      { ...before.fastify[0], balance: before.fastify[0]!.balance - 20 },
      { ...before.fastify[1], balance: before.fastify[1]!.balance + 15 },
    ]);
    expect(total(after)).toBe(total(before));

    const exited = new Promise<number | null>((resolve) => nestProcess.once('exit', resolve));
    nestProcess.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  test('`dtx migrate` applies the log DDL the package ships', async () => {
    const { stdout } = await run('npx', ['dtx', 'migrate'], { cwd: app, env: { ...process.env, DTX_DATABASE_URL: `sqlite:${join(work, 'migrated.db')}` } });
    expect(stdout).toContain('migrations applied');
    // and on PostgreSQL, through the pg the package depends on and the DDL it ships in sql/postgres
    if (!(await requireService('postgres'))) return;
    const logDb = await freshDatabase('postgres', 'user_log');
    try {
      const pg = await run('npx', ['dtx', 'migrate'], { cwd: app, env: { ...process.env, DTX_DATABASE_URL: logDb.url } });
      expect(pg.stdout).toContain('migrations applied');
      const db = knexFactory({ client: 'pg', connection: logDb.url, pool: { min: 0, max: 1 } });
      try {
        expect((await db('dtx_migrations').pluck('name')).sort()).toEqual(readdirSync(join(REPO, 'coordinator/sql/postgres')).sort());
      } finally {
        await db.destroy();
      }
    } finally {
      await logDb.drop();
    }
  });

  test('a URL whose driver is not installed names the package; the same wallet built under experimentalDecorators serves its actions', async () => {
    // @dtx/coordinator brings pg (its PostgreSQL log), so a participant-only service is played by hiding it
    const pg = join(app, 'node_modules', 'pg');
    renameSync(pg, `${pg}.hidden`);
    try {
      const missing = node(['--input-type=module', '-e', "import { knexFromUrl } from '@dtx/participant-sdk'; knexFromUrl('postgres://u@127.0.0.1:5432/db');"]);
      await expect(missing).rejects.toMatchObject({ stderr: expect.stringContaining('postgres:// URLs need the pg package: npm install pg') });
    } finally {
      renameSync(`${pg}.hidden`, pg);
    }

    writeFileSync(join(app, 'tsconfig.legacy.json'), JSON.stringify({ extends: './tsconfig.json', compilerOptions: { experimentalDecorators: true, outDir: 'legacy' } }));
    // the decorators take either flavour: tsc compiles the same source cleanly under experimentalDecorators
    await run('npx', ['tsc', '-p', 'tsconfig.legacy.json'], { cwd: app });
    const { url: legacy } = await start(process.execPath, ['legacy/wallet.js'], { DATABASE_URL: wallets.url, PORT: '0' }, /wallet listening on (http:\/\/\S+)/);
    // a credit to an unknown account reaches the decorated method, which refuses it
    const refused = await api(legacy, 'POST', '/dtx/wallet.credit/try', { xid: 'legacy-build-1', branchId: 'credit', phase: 'try', payload: { account: 'nobody', amount: 1 } });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: { code: 'BUSINESS_REJECTED', message: 'unknown account' } });
  });
});
