import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';
import { newXid, sendCallback } from './support/callbacks.js';
import { freePort } from '../support/free-port.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const kinds = await storeKinds(['sqlite', 'postgres']);


describe.each(kinds)('npm run example:wallet as a process, database on %s', (kind) => {
  let child: ChildProcess | undefined;
  let db: FreshDatabase | undefined;
  afterEach(async () => {
    if (child?.pid && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      process.kill(-child.pid, 'SIGTERM'); // npm and the node it started
      await exited;
    }
    await db?.drop();
  });

  it('serves the accounts API and signed actions on PORT with WALLET_DATABASE_URL', async () => {
    db = await freshDatabase(kind, 'walletproc');
    const port = await freePort();
    child = spawn('npm', ['run', '-s', 'example:wallet'], {
      cwd: ROOT,
      detached: true,
      env: { ...process.env, PORT: String(port), WALLET_DATABASE_URL: db.url, DTX_SIGNING_SECRET: 'process-secret' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child!.stdout! }).once('line', resolve);
      child!.once('exit', (code) => reject(new Error(`wallet exited with ${code}`)));
    });
    expect(JSON.parse(line)).toEqual({ wallet: `http://127.0.0.1:${port}`, signed: true });
    const url = `http://127.0.0.1:${port}`;

    const put = await fetch(`${url}/accounts/carol`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"balance":50}' });
    expect(put.status).toBe(200);
    expect((await fetch(`${url}/accounts/nobody`)).status).toBe(404);
    const cb = { action: 'wallet.debit', phase: 'try' as const, xid: newXid(), branchId: 'debit', payload: { account: 'carol', amount: 20 } };
    expect((await sendCallback(url, cb)).status).toBe(401);
    expect((await sendCallback(url, { ...cb, secret: 'process-secret' })).status).toBe(200);
    expect(await (await fetch(`${url}/accounts/carol`)).json()).toEqual({ id: 'carol', balance: 30, frozen: 20, incoming: 0 });
  });
});
