import { ActionTable, ensureFmtTables, knexFromUrl } from '@dtx/participant-sdk';
import type { CallbackBody, Phase } from '@dtx/protocol';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import knexFactory, { type Knex } from 'knex';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureAccountsTable } from '../../examples/bank/src/accounts-table.js';
import { FmtWallet } from '../../examples/bank/src/fmt-wallet.js';
import { privateMariadb } from '../../soak/services.js';
import { requireService } from '../support/services.js';
import { newXid } from './support/callbacks.js';

const mysql = await requireService('mysql');

describe.runIf(mysql)('FMT across a restart of its MariaDB (a private server on a spare port, SIGKILLed)', () => {
  let dir: string | undefined;
  let server: Awaited<ReturnType<typeof privateMariadb>> | undefined;
  let knex: Knex | undefined;
  afterEach(async () => {
    await knex?.destroy();
    await server?.child.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('committed tries keep data, undo records and locks; a try cut off by the kill left nothing; after the restart confirm and cancel finish them', async () => {
    dir = mkdtempSync(join(tmpdir(), 'dtx-fmt-mariadb-'));
    server = await privateMariadb(dir);
    await server.child.start(90_000);
    const admin = knexFactory({ client: 'mysql2', connection: server.url(''), pool: { min: 0, max: 1 } });
    await admin.raw('CREATE DATABASE wallet');
    await admin.destroy();
    const open = async () => {
      knex = knexFromUrl(server!.url('wallet'), { poolMax: 4 });
      const table = new ActionTable(knex, [new FmtWallet()]);
      return (action: 'debit' | 'credit', phase: Phase, xid: string, account: string) => {
        const body: CallbackBody = { xid, branchId: action, phase, payload: { account, amount: 30 } };
        return table.handle({ action: `fmtwallet.${action}`, body, attempt: 1 }).catch((err: Error) => err);
      };
    };
    let send = await open();
    await ensureFmtTables(knex!);
    await ensureAccountsTable(knex!);
    await knex!('accounts').insert(['alice', 'bob', 'carol'].map((id) => ({ id, balance: 100, frozen: 0, incoming: 0 })));
    const [confirmed, cancelled, cutOff] = [newXid(), newXid(), newXid()];
    expect(await send('debit', 'try', confirmed, 'alice')).toMatchObject({ kind: 'ran' });
    expect(await send('credit', 'try', cancelled, 'bob')).toMatchObject({ kind: 'ran' });
    // a try held at its before image by another session's row lock when the server dies
    const holder = await knex!.transaction();
    await holder.raw("SELECT * FROM accounts WHERE id = 'carol' FOR UPDATE");
    const pending = send('debit', 'try', cutOff, 'carol');
    await sleep(300);
    await server.child.kill('SIGKILL');
    expect(await pending).toBeInstanceOf(Error);
    await holder.rollback().catch(() => undefined);
    await knex!.destroy();
    knex = undefined;

    await server.child.start(90_000);
    send = await open();
    const rows = async (t: string) => Number(((await knex!(t).count({ n: '*' })) as { n: number }[])[0]!.n);
    expect([await rows('dtx_fmt_undo'), await rows('dtx_fmt_lock')]).toEqual([2, 2]);
    expect(await send('debit', 'confirm', confirmed, 'alice')).toMatchObject({ kind: 'ran' });
    expect(await send('credit', 'cancel', cancelled, 'bob')).toMatchObject({ kind: 'ran' });
    expect(await send('debit', 'cancel', cutOff, 'carol')).toEqual({ kind: 'empty_rollback' });
    const balances = Object.fromEntries(((await knex!('accounts').select('id', 'balance')) as { id: string; balance: number }[]).map((r) => [r.id, Number(r.balance)]));
    expect(balances).toEqual({ alice: 70, bob: 100, carol: 100 });
    expect([await rows('dtx_fmt_undo'), await rows('dtx_fmt_lock')]).toEqual([0, 0]);
  }, 240_000);
});
