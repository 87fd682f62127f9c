import { knexFromUrl, Participant, TccAction, type TccContext } from '@dtx/participant-sdk';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createWalletServer, type WalletServer } from '../../examples/bank/src/wallet-server.js';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';
import { newXid, sendCallback } from './support/callbacks.js';
import { startCoordinator, type TestCoordinator } from './support/coordinator.js';
import { startWallet, type TestWallet } from './support/wallets.js';
import { serveParticipant, type ServedParticipant } from './support/served-participant.js';

const kinds = await storeKinds(['sqlite', 'mysql', 'postgres']);

describe.each(kinds)('barrier on %s: a repeated try answers with what the try returned', (kind) => {
  let wallet: TestWallet | undefined;
  let db: FreshDatabase | undefined;
  const servers: WalletServer[] = [];
  afterEach(async () => {
    await wallet?.close();
    for (const s of servers.splice(0)) await s.close();
    await db?.drop();
    wallet = undefined;
    db = undefined;
  });

  it('the duplicate try is 200 with the same JSON body and dtx-barrier: duplicate, and moves nothing again', async () => {
    wallet = await startWallet(kind);
    await wallet.seed('alice', 100);
    const cb = { action: 'wallet.debit', xid: newXid(), branchId: 'debit', payload: { account: 'alice', amount: 30 } };
    expect(await sendCallback(wallet.url, { ...cb, phase: 'try' })).toEqual({ status: 200, barrier: 'ran', body: { frozen: 30 } });
    expect(await sendCallback(wallet.url, { ...cb, phase: 'try', attempt: 2 })).toEqual({ status: 200, barrier: 'duplicate', body: { frozen: 30 } });
    expect(await wallet.account('alice')).toEqual({ id: 'alice', balance: 70, frozen: 30, incoming: 0 });
  });

  it('a table made by the 0001 DDL alone is upgraded by two wallets starting at once; its old rows answer as before', async () => {
    db = await freshDatabase(kind, 'barrier_upgrade');
    const dialect = kind === 'mysql' ? 'mysql' : kind;
    const old = knexFromUrl(db.url);
    const ddl = readFileSync(new URL(`../../participant-sdk/sql/${dialect}/0001_barrier.sql`, import.meta.url), 'utf8');
    for (const s of ddl.replace(/^\s*--.*$/gm, '').split(/;\s*(?:\n|$)/).map((x) => x.trim()).filter(Boolean)) await old.raw(s);
    const oldXid = newXid();
    await old('dtx_barrier').insert({ xid: oldXid, branch_id: 'debit', op: 'try', reason: 'try', created_at: '2026-01-01 00:00:00.000' });
    await old.destroy();

    const pair = [createWalletServer({ databaseUrl: db.url, port: 0 }), createWalletServer({ databaseUrl: db.url, port: 0 })];
    servers.push(...pair);
    await Promise.all(pair.map((s) => s.start()));
    const url = pair[0]!.url;
    await fetch(`${url}/accounts/alice`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ balance: 50 }) });

    const before = { action: 'wallet.debit', xid: oldXid, branchId: 'debit', payload: { account: 'alice', amount: 5 } };
    expect(await sendCallback(url, { ...before, phase: 'try', attempt: 2 })).toEqual({ status: 204, barrier: 'duplicate', body: undefined });

    const fresh = { action: 'wallet.debit', xid: newXid(), branchId: 'debit', payload: { account: 'alice', amount: 20 } };
    expect((await sendCallback(url, { ...fresh, phase: 'try' })).status).toBe(200);
    expect(await sendCallback(pair[1]!.url, { ...fresh, phase: 'try', attempt: 2 })).toEqual({ status: 200, barrier: 'duplicate', body: { frozen: 20 } });
    const applied = (await pair[0]!.knex('dtx_barrier_migrations').orderBy('name').select('name')) as { name: string }[];
    expect(applied.map((r) => r.name)).toEqual(['0001_barrier.sql', '0002_barrier_try_result.sql', '0004_barrier_saga_msg_ops.sql']);
  });
});

/** A try whose first answer comes too late for the caller, though its work commits. */
@Participant('slow')
class SlowFirstAnswer {
  readonly confirmed: unknown[] = [];

  @TccAction({ confirm: 'confirm', cancel: 'cancel' })
  async hold(ctx: TccContext): Promise<{ holdId: string }> {
    if (ctx.attempt === 1) await sleep(500);
    return { holdId: `hold-${ctx.branchId}` };
  }

  async confirm(ctx: TccContext): Promise<void> {
    this.confirmed.push(ctx.tryResult);
  }

  async cancel(): Promise<void> {}
}

describe('a driven try whose answer was lost', () => {
  let coord: TestCoordinator | undefined;
  let served: ServedParticipant | undefined;
  afterEach(async () => {
    await served?.close();
    await coord?.close();
  });

  it('is sent again, and confirm still receives the tryResult of the try that ran', async () => {
    const participant = new SlowFirstAnswer();
    served = await serveParticipant(participant);
    coord = await startCoordinator({ callTimeoutMs: 300 });
    const root = `${served.url}/dtx/slow.hold`;
    const res = await fetch(`${coord.url}/v1/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        drive: true,
        timeoutMs: 10_000,
        branches: [{ branchId: 'h', action: 'slow.hold', tryUrl: `${root}/try`, confirmUrl: `${root}/confirm`, cancelUrl: `${root}/cancel` }],
      }),
    });
    const body = (await res.json()) as { status: string; branches: { tryResult?: unknown }[] };
    expect(body.status).toBe('committed');
    expect(body.branches[0]!.tryResult).toEqual({ holdId: 'hold-h' });
    expect(participant.confirmed).toEqual([{ holdId: 'hold-h' }]);
  });
});
