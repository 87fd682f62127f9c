import type { CallbackBody, Phase } from '@dtx/protocol';
import { ActionTable, ensureBarrierTable, knexFromUrl, type BarrierOutcome } from '@dtx/participant-sdk';
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
  /** Prepared branches of the SDK (formatID 'DTX') for these xids. */
  prepared(xids: string[]): Promise<string[]>;
  close(): Promise<void>;
}

export async function openXaDesk(url: string, alice = 100): Promise<XaDesk> {
  const knex = knexFromUrl(url, { poolMax: 8 });
  await ensureBarrierTable(knex);
  await ensureAccountsTable(knex);
  await knex('accounts').insert({ id: 'alice', balance: alice, frozen: 0, incoming: 0 }).onConflict('id').merge(['balance']);
  const table = new ActionTable(knex, [new XaWallet()]);
  return {
    knex,
    table,
    send: (action, phase, xid, amount = 30, account = 'alice') => {
      const body: CallbackBody = { xid, branchId: action, phase, payload: { account, amount } };
      return table.handle({ action: `xawallet.${action}`, body, attempt: 1 }).catch((err: Error) => err);
    },
    balance: async (account = 'alice') => Number((await knex('accounts').where('id', account).first('balance')).balance),
    prepared: async (xids) => {
      const [rows] = (await knex.raw('XA RECOVER')) as [{ formatID: number; gtrid_length: number; data: string }[]];
      return rows.filter((r) => Number(r.formatID) === 0x445458 && xids.some((x) => String(r.data).startsWith(x))).map((r) => String(r.data));
    },
    close: () => knex.destroy(),
  };
}

export { newXid };
