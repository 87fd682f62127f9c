import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExpressWallet } from '../../examples/bank/src/express-wallet.js';
import { transfer } from '../../examples/bank/src/transfer.js';
import { freshDatabase, type FreshDatabase } from '../support/services.js';
import { startCoordinator, type TestCoordinator } from './support/coordinator.js';
import { startWallet, type TestWallet } from './support/wallets.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const APP = fileURLToPath(new URL('../../examples/nest-wallet/', import.meta.url));

/**
 * A NestJS service as its own template builds it: compiled by plain tsc to CommonJS under
 * experimentalDecorators + emitDecoratorMetadata, run by plain node, loading the SDK's built
 * ES modules through require(). Its participant is a Nest provider with an injected repository.
 */
describe('the NestJS wallet (CommonJS, experimentalDecorators) and the Express wallet beside the fastify wallet', () => {
  let coord: TestCoordinator;
  let fastifyWallet: TestWallet;
  let nestDb: FreshDatabase;
  let nest: ChildProcess;
  let nestUrl: string;
  let expressDb: FreshDatabase;
  let expressWallet: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    await run('npx', ['tsc', '-b', 'participant-sdk/tsconfig.build.json'], { cwd: ROOT });
    await run('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: APP });
    coord = await startCoordinator();
    fastifyWallet = await startWallet('sqlite');
    nestDb = await freshDatabase('sqlite', 'nest_wallet');
    nest = spawn(process.execPath, ['dist/main.js'], { cwd: APP, env: { ...process.env, WALLET_DATABASE_URL: nestDb.url, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: nest.stdout! }).once('line', resolve);
      nest.once('exit', (code) => reject(new Error(`the Nest app exited with ${code}`)));
    });
    nestUrl = (JSON.parse(line) as { wallet: string }).wallet;
    expressDb = await freshDatabase('sqlite', 'express_wallet');
    expressWallet = await startExpressWallet({ databaseUrl: expressDb.url, port: 0 });
    await fastifyWallet.seed('alice', 100);
    const carol = await fetch(`${expressWallet.url}/accounts/carol`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ balance: 50 }) });
    expect(carol.status).toBe(200);
    const seeded = await fetch(`${nestUrl}/accounts/bob`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ balance: 5 }) });
    expect(seeded.status).toBe(200);
  }, 180_000);

  afterAll(async () => {
    if (nest && nest.exitCode === null && nest.signalCode === null) nest.kill('SIGKILL');
    await fastifyWallet?.close();
    await expressWallet?.close();
    await expressDb?.drop();
    await coord?.close();
    await nestDb?.drop();
  });

  const account = async (walletUrl: string, id: string) => (await (await fetch(`${walletUrl}/accounts/${id}`)).json()) as { balance: number; frozen: number; incoming: number };

  it('moves money both ways and refuses an overdraft: balances conserved', async () => {
    const there = await transfer(coord.client, { from: { walletUrl: fastifyWallet.url, account: 'alice' }, to: { walletUrl: nestUrl, account: 'bob' }, amount: 30 });
    expect(there.status).toBe('committed');
    const back = await transfer(coord.client, { from: { walletUrl: nestUrl, account: 'bob' }, to: { walletUrl: fastifyWallet.url, account: 'alice' }, amount: 10 });
    expect(back.status).toBe('committed');
    const overdraft = await transfer(coord.client, { from: { walletUrl: nestUrl, account: 'bob' }, to: { walletUrl: fastifyWallet.url, account: 'alice' }, amount: 1000 });
    expect(overdraft.status).toBe('rolled_back');

    expect(await fastifyWallet.account('alice')).toEqual({ id: 'alice', balance: 80, frozen: 0, incoming: 0 });
    expect(await account(nestUrl, 'bob')).toEqual({ id: 'bob', balance: 25, frozen: 0, incoming: 0 });
  });

  it('moves money between the Nest and the Express wallet and from Express to fastify: balances conserved', async () => {
    const nestToExpress = await transfer(coord.client, { from: { walletUrl: nestUrl, account: 'bob' }, to: { walletUrl: expressWallet.url, account: 'carol' }, amount: 5 });
    expect(nestToExpress.status).toBe('committed');
    const expressToFastify = await transfer(coord.client, { from: { walletUrl: expressWallet.url, account: 'carol' }, to: { walletUrl: fastifyWallet.url, account: 'alice' }, amount: 20 });
    expect(expressToFastify.status).toBe('committed');
    const unknown = await transfer(coord.client, { from: { walletUrl: expressWallet.url, account: 'carol' }, to: { walletUrl: nestUrl, account: 'nobody' }, amount: 1 });
    expect(unknown.status).toBe('rolled_back');
    expect(await fastifyWallet.account('alice')).toEqual({ id: 'alice', balance: 100, frozen: 0, incoming: 0 });
    expect(await account(nestUrl, 'bob')).toEqual({ id: 'bob', balance: 20, frozen: 0, incoming: 0 });
    expect(await account(expressWallet.url, 'carol')).toEqual({ id: 'carol', balance: 35, frozen: 0, incoming: 0 });
  });

  it("the service's own routes keep Nest's JSON parsing beside the raw callback routes", async () => {
    const put = await fetch(`${nestUrl}/accounts/dave`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ balance: 7 }) });
    expect(await put.json()).toEqual({ id: 'dave', balance: 7, frozen: 0, incoming: 0 });
  });

  it('on SIGTERM, app.close() runs the module\'s shutdown hooks and the process ends by itself', async () => {
    const exited = once(nest, 'exit');
    nest.kill('SIGTERM');
    const [code] = (await Promise.race([exited, new Promise((_, reject) => setTimeout(() => reject(new Error('the Nest app did not exit')), 10_000))])) as [number | null];
    expect(code).toBe(0);
  });
});
