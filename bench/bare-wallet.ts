// bank-bare's wallet: the example wallet's money movement as plain local
// transactions, no TCC, no barrier, no coordinator. Same framework (fastify),
// same database access (knex, the SDK's pool settings) and the same accounts
// table as examples/bank, so bank vs bank-bare measures what DTX adds.
//   POST /bare/debit  {account, amount}  balance -= amount if enough (409 if not)
//   POST /bare/credit {account, amount}  balance += amount
import { knexFromUrl } from '@dtx/participant-sdk';
import Fastify from 'fastify';
import { ensureAccountsTable } from '../examples/bank/src/accounts-table.js';

const knex = knexFromUrl(process.env.WALLET_DATABASE_URL ?? '');
const app = Fastify({ logger: false });
type Move = { Body: { account: string; amount: number } };
const body = {
  type: 'object',
  required: ['account', 'amount'],
  properties: { account: { type: 'string', minLength: 1, maxLength: 64 }, amount: { type: 'integer', minimum: 1 } },
};

app.post<Move>('/bare/debit', { schema: { body } }, async (req, reply) => {
  const { account, amount } = req.body;
  const moved = await knex('accounts').where('id', account).andWhere('balance', '>=', amount).update({ balance: knex.raw('balance - ?', [amount]) });
  if (moved !== 1) return reply.code(409).send({ error: { code: 'REJECTED', message: `insufficient balance in ${account}` } });
  return { debited: amount };
});

app.post<Move>('/bare/credit', { schema: { body } }, async (req, reply) => {
  const { account, amount } = req.body;
  const moved = await knex('accounts').where('id', account).update({ balance: knex.raw('balance + ?', [amount]) });
  if (moved !== 1) return reply.code(409).send({ error: { code: 'REJECTED', message: `unknown account ${account}` } });
  return { credited: amount };
});

await ensureAccountsTable(knex);
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
const addr = app.server.address();
console.log(JSON.stringify({ wallet: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}` }));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app.close().then(() => knex.destroy()).then(() => process.exit(0));
  });
}
