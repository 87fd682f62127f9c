import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { bankPerTest } from './support/bank.js';
import { waitForStatus } from './support/coordinator.js';

const ROOT = new URL('../..', import.meta.url).pathname;

describe('end to end: an initiator killed after its tries', () => {
  const openBank = bankPerTest();
  let child: ChildProcess | undefined;
  // hooks run as a stack: this one, registered last, kills the initiator before the bank closes
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('is rolled back at the deadline and every frozen amount is released', async () => {
    const { coord, a, b } = await openBank({ alice: 100, bob: 5 });

    child = spawn(process.execPath, ['--import', 'tsx', 'test/sdk/fixtures/initiator-stops-after-tries.ts'], {
      cwd: ROOT,
      env: { ...process.env, COORDINATOR_URL: coord.url, FROM_WALLET: a.url, TO_WALLET: b.url, AMOUNT: '30', TIMEOUT_MS: '3000' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child!.once('exit', (_code, signal) => resolve(signal)));
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child!.stdout! }).once('line', resolve);
      child!.once('exit', (code) => reject(new Error(`initiator exited (${code}) before trying`)));
    });
    const { xid } = JSON.parse(line) as { xid: string };

    // Both reservations are in place, and the transaction is still trying.
    expect(await a.account('alice')).toMatchObject({ balance: 70, frozen: 30 });
    expect(await b.account('bob')).toMatchObject({ balance: 5, incoming: 30 });
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect((await coord.client.get(xid)).status).toBe('trying');

    const view = await waitForStatus(coord.client, xid, 'rolled_back');
    expect(view.reason).toMatch(/timeout/);
    expect(view.branches.map((br) => br.status)).toEqual(['cancelled', 'cancelled']);
    expect(await a.account('alice')).toEqual({ id: 'alice', balance: 100, frozen: 0, incoming: 0 });
    expect(await b.account('bob')).toEqual({ id: 'bob', balance: 5, frozen: 0, incoming: 0 });
  });
});
