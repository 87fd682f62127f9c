// A service of a user's own, written only from participant-sdk/README.md: one wallet
// participant on MySQL, served by fastify. Compiled by plain tsc, run by plain node.
import { knexFromUrl, participantPlugin } from '@dtx/participant-sdk';
import Fastify from 'fastify';
import { openAccounts, Wallet } from './wallet-participant.js';

const knex = knexFromUrl(process.env.DATABASE_URL!);
await openAccounts(knex);

const app = Fastify();
await app.register(participantPlugin, { knex, participants: [new Wallet()] });
app.get<{ Params: { id: string } }>('/accounts/:id', async (req) => {
  const row = await knex('accounts').where('id', req.params.id).first();
  return { id: row.id, balance: Number(row.balance), frozen: Number(row.frozen), incoming: Number(row.incoming) };
});
const address = await app.listen({ port: Number(process.env.PORT ?? 4001), host: '127.0.0.1' });
console.log(`wallet listening on ${address}`);
