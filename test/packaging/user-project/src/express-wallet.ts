// The same wallet in an Express service of the user's, written from participant-sdk/README.md:
// the DTX router mounted before the service's own express.json().
import { knexFromUrl } from '@dtx/participant-sdk';
import { participantRouter } from '@dtx/participant-sdk/express';
import express from 'express';
import { openAccounts, Wallet } from './wallet-participant.js';

const knex = knexFromUrl(process.env.DATABASE_URL!);
await openAccounts(knex);

const app = express();
const dtx = await participantRouter({ knex, participants: [new Wallet()] });
app.use('/dtx', dtx.router);
app.use(express.json());
app.get('/accounts/:id', async (req, res) => {
  const row = await knex('accounts').where('id', req.params.id).first();
  res.json({ id: row.id, balance: Number(row.balance), frozen: Number(row.frozen), incoming: Number(row.incoming) });
});
const server = app.listen(Number(process.env.PORT ?? 4002), '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  console.log(`express wallet listening on http://127.0.0.1:${port}`);
});
