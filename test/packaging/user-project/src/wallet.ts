// A service of a user's own, written only from participant-sdk/README.md: one wallet
// participant on MySQL, served by fastify. Compiled by plain tsc, run by plain node.
import { ensureBarrierTable, knexFromUrl, Participant, participantPlugin, TccAction, TccRejectedError, type TccContext } from '@dtx/participant-sdk';
import Fastify from 'fastify';

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

const knex = knexFromUrl(process.env.DATABASE_URL!);
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

const app = Fastify();
await app.register(participantPlugin, { knex, participants: [new Wallet()] });
app.get<{ Params: { id: string } }>('/accounts/:id', async (req) => {
  const row = await knex('accounts').where('id', req.params.id).first();
  return { id: row.id, balance: Number(row.balance), frozen: Number(row.frozen), incoming: Number(row.incoming) };
});
const address = await app.listen({ port: Number(process.env.PORT ?? 4001), host: '127.0.0.1' });
console.log(`wallet listening on ${address}`);
