// The user's wallet participant, served by fastify (wallet.ts) and by Express (express-wallet.ts).
import { ensureBarrierTable, Participant, TccAction, TccRejectedError, type TccContext } from '@dtx/participant-sdk';
import type { Knex } from 'knex';

type Move = { account: string; amount: number };

@Participant('wallet')
export class Wallet {
  @TccAction({ confirm: 'confirmDebit', cancel: 'cancelDebit' })
  async debit(ctx: TccContext<Move>) {
    const n = await ctx.trx('accounts').where('id', ctx.payload.account).andWhere('balance', '>=', ctx.payload.amount)
      .update({ balance: ctx.trx.raw('balance - ?', [ctx.payload.amount]), frozen: ctx.trx.raw('frozen + ?', [ctx.payload.amount]) });
    if (n !== 1) throw new TccRejectedError('insufficient balance');
    return { frozen: ctx.payload.amount };
  }
  async confirmDebit(ctx: TccContext<Move>) {
    await ctx.trx('accounts').where('id', ctx.payload.account).update({ frozen: ctx.trx.raw('frozen - ?', [ctx.payload.amount]) });
  }
  async cancelDebit(ctx: TccContext<Move>) {
    await ctx.trx('accounts').where('id', ctx.payload.account)
      .update({ frozen: ctx.trx.raw('frozen - ?', [ctx.payload.amount]), balance: ctx.trx.raw('balance + ?', [ctx.payload.amount]) });
  }

  @TccAction({ confirm: 'confirmCredit', cancel: 'cancelCredit' })
  async credit(ctx: TccContext<Move>) {
    const n = await ctx.trx('accounts').where('id', ctx.payload.account).update({ incoming: ctx.trx.raw('incoming + ?', [ctx.payload.amount]) });
    if (n !== 1) throw new TccRejectedError('unknown account');
  }
  async confirmCredit(ctx: TccContext<Move>) {
    await ctx.trx('accounts').where('id', ctx.payload.account)
      .update({ incoming: ctx.trx.raw('incoming - ?', [ctx.payload.amount]), balance: ctx.trx.raw('balance + ?', [ctx.payload.amount]) });
  }
  async cancelCredit(ctx: TccContext<Move>) {
    await ctx.trx('accounts').where('id', ctx.payload.account).update({ incoming: ctx.trx.raw('incoming - ?', [ctx.payload.amount]) });
  }
}

/** The barrier table and the accounts, alice with 100 and bob with 0 when new. */
export async function openAccounts(knex: Knex): Promise<void> {
  await ensureBarrierTable(knex);
  if (!(await knex.schema.hasTable('accounts'))) {
    await knex.schema.createTable('accounts', (t) => {
      t.string('id', 64).primary();
      t.bigInteger('balance').notNullable();
      t.bigInteger('frozen').notNullable().defaultTo(0);
      t.bigInteger('incoming').notNullable().defaultTo(0);
    });
    await knex('accounts').insert([{ id: 'alice', balance: 100 }, { id: 'bob', balance: 0 }]);
  }
}
