import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import knexFactory, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../support/free-port.js';
import { freshDatabase, requireService, type FreshDatabase } from '../../support/services.js';
import { newXid, sendCallback } from './callbacks.js';

const ROOT = new URL('../../..', import.meta.url).pathname;
type Dialect = 'mysql' | 'postgres';

type Phase = 'try' | 'confirm' | 'cancel';

/**
 * Where a phase is held (by a lock this test takes) when its wallet process is SIGKILLed.
 * The phase's local transaction dies with the process, so what persisted must be what the
 * phase found: nothing after a killed try (its cancel is an empty rollback), the try's data,
 * undo record and lock together after a killed confirm or cancel (repeating it finishes it).
 */
const STEPS: { phase: Phase; at: string; hold: (k: Knex.Transaction, xid: string, lockKey: string, d: Dialect) => Promise<unknown> }[] = [
  { phase: 'try', at: 'the before image (the row is locked)', hold: (k) => k.raw("SELECT * FROM accounts WHERE id = 'alice' FOR UPDATE") },
  { phase: 'try', at: 'taking the global lock (its key is being inserted elsewhere)', hold: (k, xid, lockKey) => k.raw("INSERT INTO dtx_fmt_lock VALUES (?, 'accounts', '[]', 'other', 'b', CURRENT_TIMESTAMP)", [lockKey]) },
  { phase: 'try', at: 'the undo record (after the write and its after image)', hold: (k, _x, _l, d) => k.raw(d === 'mysql' ? 'LOCK TABLES dtx_fmt_undo WRITE' : 'LOCK TABLE dtx_fmt_undo IN EXCLUSIVE MODE') },
  { phase: 'confirm', at: 'deleting the undo record', hold: (k, xid) => k.raw('SELECT * FROM dtx_fmt_undo WHERE xid = ? FOR UPDATE', [xid]) },
  { phase: 'confirm', at: 'releasing the locks (after deleting the undo record)', hold: (k, xid) => k.raw('SELECT * FROM dtx_fmt_lock WHERE xid = ? FOR UPDATE', [xid]) },
  { phase: 'cancel', at: 'reading the row to restore', hold: (k) => k.raw("SELECT * FROM accounts WHERE id = 'alice' FOR UPDATE") },
  { phase: 'cancel', at: 'releasing the locks (after restoring the row)', hold: (k, xid) => k.raw('SELECT * FROM dtx_fmt_lock WHERE xid = ? FOR UPDATE', [xid]) },
];

/** The crash matrix on one dialect (a file per dialect, so the two run in parallel). */
export async function crashMatrix(kind: Dialect): Promise<void> {
  if (!(await requireService(kind))) return;
  describe(`FMT wallet on ${kind} SIGKILLed at every step of try, confirm and cancel`, () => {
    let db: FreshDatabase;
    let child: ChildProcess | undefined;
    let port: number;
    let url: string;
    let admin: Knex;
    const kill = async () => {
      if (child?.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child!.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
    };
    const start = async () => {
      child = spawn(process.execPath, ['--import', 'tsx', 'examples/bank/bin/fmt-wallet.ts'], {
        cwd: ROOT,
        env: { ...process.env, PORT: String(port), WALLET_DATABASE_URL: db.url },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child!.stdout! }).once('line', resolve);
        child!.once('exit', (code) => reject(new Error(`fmt wallet exited with ${code}`)));
      });
      expect(JSON.parse(line)).toMatchObject({ mode: 'fmt' });
      url = `http://127.0.0.1:${port}`;
    };
    beforeAll(async () => {
      db = await freshDatabase(kind, 'fmtkill');
      port = await freePort();
      admin = knexFactory({ client: kind === 'mysql' ? 'mysql2' : 'pg', connection: db.url, pool: { min: 0, max: 2 } });
      await start();
    });
    afterAll(async () => {
      await kill();
      await admin?.destroy();
      await db?.drop();
    });

    const state = async (xid: string) => ({
      balance: Number((await admin('accounts').where('id', 'alice').first('balance')).balance),
      undo: Number(((await admin('dtx_fmt_undo').where('xid', xid).count({ n: '*' })) as { n: number }[])[0]!.n),
      locks: Number(((await admin('dtx_fmt_lock').count({ n: '*' })) as { n: number }[])[0]!.n),
      barrier: ((await admin('dtx_barrier').where('xid', xid).orderBy('op').select('op')) as { op: string }[]).map((r) => r.op),
    });
    /** A statement of our wallet's that has been waiting (on the held row or table lock) for a while. */
    const blocked = async () => {
      if (kind === 'postgres') {
        const { rows } = (await admin.raw("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'")) as { rows: { n: string }[] };
        return Number(rows[0]!.n) > 0;
      }
      const [rows] = (await admin.raw(
        `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST p
          WHERE p.DB = DATABASE() AND p.ID <> CONNECTION_ID() AND p.COMMAND = 'Query' AND p.TIME_MS > 200 AND p.INFO NOT LIKE '%PROCESSLIST%'`,
      )) as [{ n: number }[]];
      return Number(rows[0]!.n) > 0;
    };
    const callback = (xid: string, phase: Phase) => sendCallback(url, { action: 'fmtwallet.debit', phase, xid, branchId: 'debit', payload: { account: 'alice', amount: 30 } });

    it.each(STEPS.map((s, i) => [`${s.phase} at ${s.at}`, i] as const))('%s', async (_name, i) => {
      const step = STEPS[i]!;
      await admin('accounts').insert({ id: 'alice', balance: 100, frozen: 0, incoming: 0 }).onConflict('id').merge(['balance']);
      if (child?.exitCode !== null) await start();
      const xid = newXid();
      if (step.phase !== 'try') expect(await callback(xid, 'try')).toMatchObject({ status: 200 });
      const tried = await state(xid);
      const lockKey = createHash('sha256').update(JSON.stringify(['accounts', ['alice']])).digest('hex');
      const holder = await admin.transaction();
      try {
        await step.hold(holder, xid, lockKey, kind);
        const pending = callback(xid, step.phase).catch(() => undefined);
        for (const until = Date.now() + 10_000; !(await blocked()); await sleep(20)) {
          if (Date.now() > until) throw new Error('the phase never blocked');
        }
        await kill();
        void pending;
      } finally {
        if (step.at.startsWith('the undo') && kind === 'mysql') await holder.raw('UNLOCK TABLES');
        await holder.rollback().catch(() => undefined);
      }
      await sleep(100);
      // the killed phase's local transaction left nothing: the state is what the phase found
      expect(await state(xid)).toEqual(tried);
      if (step.phase === 'try') expect(tried).toEqual({ balance: 100, undo: 0, locks: 0, barrier: [] });
      else expect(tried).toMatchObject({ balance: 70, undo: 1, locks: 1 });
      await start();
      if (step.phase === 'try') {
        expect(await callback(xid, 'cancel')).toMatchObject({ status: 204, barrier: 'empty_rollback' });
        expect(await callback(xid, 'try')).toMatchObject({ status: 409 });
      } else {
        expect(await callback(xid, step.phase)).toMatchObject({ status: 204, barrier: 'ran' });
        expect(await callback(xid, step.phase)).toMatchObject({ status: 204, barrier: 'duplicate' });
      }
      const end = await state(xid);
      expect({ balance: end.balance, undo: end.undo, locks: end.locks }).toEqual({ balance: step.phase === 'confirm' ? 70 : 100, undo: 0, locks: 0 });
    }, 60_000);

    it('killed after the try answered: the repeated try is a duplicate with its result, confirm completes it', async () => {
      await admin('accounts').where('id', 'alice').update({ balance: 100 });
      const xid = newXid();
      expect(await callback(xid, 'try')).toMatchObject({ status: 200, body: { debited: 30 } });
      await kill();
      await start();
      expect(await callback(xid, 'try')).toMatchObject({ status: 200, barrier: 'duplicate', body: { debited: 30 } });
      expect(await callback(xid, 'confirm')).toMatchObject({ status: 204, barrier: 'ran' });
      expect(await state(xid)).toEqual({ balance: 70, undo: 0, locks: 0, barrier: ['confirm', 'try'] });
    }, 60_000);
  });
}
