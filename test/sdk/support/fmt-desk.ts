import type { CallbackBody, Phase } from '@dtx/protocol';
import { ActionTable, ensureFmtTables, FmtAction, knexFromUrl, Participant, type BarrierOutcome, type TccContext } from '@dtx/participant-sdk';
import knexFactory, { type Knex } from 'knex';
import { freshDatabase, type FreshDatabase } from '../../support/services.js';
import { FmtWallet } from '../../../examples/bank/src/fmt-wallet.js';
import { newXid } from './callbacks.js';

/** A try's business step, named by the payload's `script` (tests register them). */
export type Script = (trx: Knex.Transaction, payload: Record<string, unknown>) => Promise<unknown>;
const scripts = new Map<string, Script>();

/** An FMT participant that runs whatever script the payload names, as its try. */
@Participant('fmtprobe')
export class FmtProbe {
  @FmtAction()
  async run(ctx: TccContext<{ script: string } & Record<string, unknown>>): Promise<unknown> {
    const script = scripts.get(ctx.payload.script);
    if (!script) throw new Error(`no script ${ctx.payload.script}`);
    return script(ctx.trx, ctx.payload);
  }
}

/** A fresh database with FMT's tables, and FMT's actions called directly (no HTTP). */
export interface FmtDesk {
  kind: 'mysql' | 'postgres';
  db: FreshDatabase;
  knex: Knex;
  table: ActionTable;
  /** Registers a script; answers its name. */
  script(name: string, fn: Script): string;
  /** One phase of `fmtprobe.run` for (xid, branchId). */
  send(phase: Phase, xid: string, script: string, extra?: Record<string, unknown>, branchId?: string): Promise<BarrierOutcome<unknown> | Error>;
  /** One phase of the example FMT wallet's action. */
  wallet(action: 'debit' | 'credit', phase: Phase, xid: string, account: string, amount: number, branchId?: string): Promise<BarrierOutcome<unknown> | Error>;
  /** Rows of FMT's tables (undo records, locks). */
  fmtRows(): Promise<{ undo: number; locks: number }>;
  close(): Promise<void>;
}

export interface DeskOptions {
  settings?: ConstructorParameters<typeof ActionTable>[3];
  /** Every session of the desk's pool runs in this time zone (MySQL offset, PostgreSQL zone name). */
  timeZone?: string;
}

export async function openFmtDesk(kind: 'mysql' | 'postgres', label = 'fmt', { settings, timeZone }: DeskOptions = {}): Promise<FmtDesk> {
  const db = await freshDatabase(kind, label);
  const knex = timeZone === undefined ? knexFromUrl(db.url, { poolMax: 10 }) : knexFactory({
    client: kind === 'mysql' ? 'mysql2' : 'pg',
    connection: db.url,
    pool: {
      min: 0,
      max: 10,
      afterCreate: (conn: { query(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) =>
        conn.query(kind === 'mysql' ? `SET time_zone = '${timeZone}'` : `SET TIME ZONE '${timeZone}'`, (err) => done(err, conn)),
    },
  });
  await ensureFmtTables(knex);
  const table = new ActionTable(knex, [new FmtProbe(), new FmtWallet()], undefined, settings);
  const handle = (action: string, body: CallbackBody) => table.handle({ action, body, attempt: 1 }).catch((err: Error) => err);
  const count = async (t: string) => Number(((await knex(t).count({ n: '*' })) as { n: number | string }[])[0]!.n);
  return {
    kind,
    db,
    knex,
    table,
    script(name, fn) {
      scripts.set(`${db.url}:${name}`, fn);
      return `${db.url}:${name}`;
    },
    send: (phase, xid, script, extra = {}, branchId = 'b1') => handle('fmtprobe.run', { xid, branchId, phase, payload: { script, ...extra } }),
    wallet: (action, phase, xid, account, amount, branchId = action) => handle(`fmtwallet.${action}`, { xid, branchId, phase, payload: { account, amount } }),
    fmtRows: async () => ({ undo: await count('dtx_fmt_undo'), locks: await count('dtx_fmt_lock') }),
    async close() {
      await knex.destroy();
      await db.drop();
    },
  };
}

export { newXid };
