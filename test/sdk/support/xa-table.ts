import type { CallbackBody, Phase } from '@dtx/protocol';
import { ActionTable, ensureBarrierTable, knexFromUrl, xaFormatIdOf, type BarrierOutcome } from '@dtx/participant-sdk';
import { pgGidOf } from '../../../participant-sdk/src/xa/xa-id.js';
import type { Knex } from 'knex';
import { ensureAccountsTable } from '../../../examples/bank/src/accounts-table.js';
import { XaWallet } from '../../../examples/bank/src/xa-wallet.js';
import { newXid } from './callbacks.js';

/** The XA wallet's actions on one database, called directly, with the helpers its tests read. */
export interface XaDesk {
  knex: Knex;
  table: ActionTable;
  send(action: 'debit' | 'credit', phase: Phase, xid: string, amount?: number, account?: string): Promise<BarrierOutcome<unknown> | Error>;
  balance(account?: string): Promise<number>;
  /** This database's formatID. */
  formatId: number;
  /** Prepared branches of the SDK in this database for these xids (gtrid + bqual; PostgreSQL: the gid). */
  prepared(xids: string[]): Promise<string[]>;
  /** XA ROLLBACK (ROLLBACK PREPARED) of what prepared() returned, for a test's cleanup. */
  rollBack(data: string[]): Promise<void>;
  close(): Promise<void>;
}

/** `alice`: her opening balance, or null to leave the accounts as they are (a reopened database). */
export async function openXaDesk(url: string, alice: number | null = 100): Promise<XaDesk> {
  const knex = knexFromUrl(url, { poolMax: 8 });
  await ensureBarrierTable(knex);
  await ensureAccountsTable(knex);
  if (alice !== null) await knex('accounts').insert({ id: 'alice', balance: alice, frozen: 0, incoming: 0 }).onConflict('id').merge(['balance']);
  const table = new ActionTable(knex, [new XaWallet()]);
  const pg = knex.client.config.client === 'pg';
  const res = (await knex.raw(pg ? 'SELECT current_database() AS db' : 'SELECT DATABASE() AS db')) as { rows: { db: string }[] } | [[{ db: string }]];
  const db = pg ? (res as { rows: { db: string }[] }).rows[0]!.db : (res as [[{ db: string }]])[0][0].db;
  const formatId = xaFormatIdOf(db);
  return {
    formatId,
    knex,
    table,
    send: (action, phase, xid, amount = 30, account = 'alice') => {
      const body: CallbackBody = { xid, branchId: action, phase, payload: { account, amount } };
      return table.handle({ action: `xawallet.${action}`, body, attempt: 1 }).catch((err: Error) => err);
    },
    balance: async (account = 'alice') => Number((await knex('accounts').where('id', account).first('balance')).balance),
    prepared: async (xids) => {
      if (pg) {
        const { rows } = (await knex.raw('SELECT gid FROM pg_prepared_xacts WHERE database = current_database()')) as { rows: { gid: string }[] };
        const mine = xids.flatMap((x) => ['debit', 'credit'].map((b) => pgGidOf({ gtrid: x, bqual: b, formatId })));
        return rows.map((r) => r.gid).filter((g) => mine.includes(g));
      }
      const [rows] = (await knex.raw('XA RECOVER')) as [{ formatID: number; gtrid_length: number; data: string }[]];
      return rows.filter((r) => Number(r.formatID) === formatId && xids.some((x) => String(r.data).startsWith(x))).map((r) => String(r.data));
    },
    rollBack: async (data) => {
      for (const d of data) await knex.raw(pg ? `ROLLBACK PREPARED '${d}'` : `XA ROLLBACK '${d.slice(0, 26)}','${d.slice(26)}',${formatId}`);
    },
    close: () => knex.destroy(),
  };
}

export { newXid };
