import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import knexFactory from 'knex';
import { afterEach, describe, expect, it } from 'vitest';
import { privateMariadb } from '../../soak/services.js';
import { freePort } from '../support/free-port.js';
import { freshDatabase, requireService, type FreshDatabase } from '../support/services.js';
import { newXid, sendCallback } from './support/callbacks.js';
import { openXaDesk, type XaDesk } from './support/xa-table.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const mysql = await requireService('mysql');

describe.runIf(mysql)('XA wallet killed between try and confirm', () => {
  let child: ChildProcess | undefined;
  let db: FreshDatabase | undefined;
  const kill = async () => {
    if (child?.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
  };
  afterEach(async () => {
    await kill();
    await db?.drop();
  });

  const start = async (port: number) => {
    child = spawn(process.execPath, ['--import', 'tsx', 'examples/bank/bin/xa-wallet.ts'], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), WALLET_DATABASE_URL: db!.url },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child!.stdout! }).once('line', resolve);
      child!.once('exit', (code) => reject(new Error(`xa wallet exited with ${code}`)));
    });
    expect(JSON.parse(line)).toMatchObject({ wallet: `http://127.0.0.1:${port}`, mode: 'xa' });
    return `http://127.0.0.1:${port}`;
  };

  it('SIGKILL after the prepared try, then confirm after its restart commits the debit', async () => {
    db = await freshDatabase('mysql', 'xakill');
    const port = await freePort();
    let url = await start(port);
    expect((await fetch(`${url}/accounts/carol`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"balance":50}' })).status).toBe(200);
    const xid = newXid();
    const cb = { action: 'xawallet.debit', xid, branchId: 'debit', payload: { account: 'carol', amount: 20 } };
    expect(await sendCallback(url, { ...cb, phase: 'try' })).toMatchObject({ status: 200, body: { debited: 20 } });
    await kill();
    url = await start(port);
    expect(await (await fetch(`${url}/accounts/carol`)).json()).toEqual({ id: 'carol', balance: 50 });
    expect(await sendCallback(url, { ...cb, phase: 'try' })).toMatchObject({ status: 200, barrier: 'duplicate', body: { debited: 20 } });
    expect(await sendCallback(url, { ...cb, phase: 'confirm' })).toMatchObject({ status: 204, barrier: 'ran' });
    expect(await sendCallback(url, { ...cb, phase: 'confirm' })).toMatchObject({ status: 204, barrier: 'duplicate' });
    expect(await (await fetch(`${url}/accounts/carol`)).json()).toEqual({ id: 'carol', balance: 30 });
    const k = knexFactory({ client: 'mysql2', connection: db.url, pool: { min: 0, max: 1 } });
    try {
      const [rows] = (await k.raw('XA RECOVER')) as [{ data: string }[]];
      expect(rows.filter((r) => String(r.data).startsWith(xid))).toEqual([]);
    } finally {
      await k.destroy();
    }
  }, 60_000);
});

describe.runIf(mysql)('a MariaDB restart between the phases (a private server on a spare port)', () => {
  let dir: string | undefined;
  let server: Awaited<ReturnType<typeof privateMariadb>> | undefined;
  let desk: XaDesk | undefined;
  afterEach(async () => {
    await desk?.close();
    await server?.child.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a prepared branch survives a SIGKILL of the database; after the restart one commits, one rolls back', async () => {
    dir = mkdtempSync(join(tmpdir(), 'dtx-xa-mariadb-'));
    server = await privateMariadb(dir);
    await server.child.start(90_000);
    const admin = knexFactory({ client: 'mysql2', connection: server.url(''), pool: { min: 0, max: 1 } });
    await admin.raw('CREATE DATABASE wallet');
    await admin.destroy();
    desk = await openXaDesk(server.url('wallet'), 100);
    await desk.knex('accounts').insert({ id: 'bob', balance: 100, frozen: 0, incoming: 0 });
    const [commit, rollback] = [newXid(), newXid()];
    expect(await desk.send('debit', 'try', commit, 30, 'alice')).toMatchObject({ kind: 'ran' });
    expect(await desk.send('debit', 'try', rollback, 40, 'bob')).toMatchObject({ kind: 'ran' });
    await desk.close();
    desk = undefined;

    await server.child.kill('SIGKILL');
    await server.child.start(90_000);

    desk = await openXaDesk(server.url('wallet'), null);
    expect(await desk.prepared([commit, rollback])).toHaveLength(2);
    expect(await desk.send('debit', 'confirm', commit, 30, 'alice')).toMatchObject({ kind: 'ran' });
    expect(await desk.send('debit', 'cancel', rollback, 40, 'bob')).toMatchObject({ kind: 'ran' });
    expect(await desk.prepared([commit, rollback])).toEqual([]);
    expect([await desk.balance('alice'), await desk.balance('bob')]).toEqual([70, 100]);
  }, 240_000);
});
