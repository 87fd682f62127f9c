import { ensureBarrierTable, knexFromUrl } from '@dtx/participant-sdk';
import { participantRouter } from '@dtx/participant-sdk/express';
import express, { type ErrorRequestHandler } from 'express';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ensureAccountsTable } from './accounts-table.js';
import { MAX_AMOUNT, Wallet, type Account } from './wallet.js';

export interface ExpressWalletOptions {
  databaseUrl: string;
  /** @default 4001 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  signingSecret?: string;
  publicUrl?: string;
}

/**
 * The bank wallet as an Express service: the same `wallet.debit` / `wallet.credit` actions
 * and the same accounts API as the fastify wallet (wallet-server.ts), the callbacks on a DTX
 * router mounted before the service's own `express.json()`.
 */
export async function startExpressWallet(opts: ExpressWalletOptions): Promise<{ url: string; close(): Promise<void> }> {
  const knex = knexFromUrl(opts.databaseUrl);
  await ensureBarrierTable(knex);
  await ensureAccountsTable(knex);
  const dtx = await participantRouter({
    knex,
    participants: [new Wallet()],
    ...(opts.signingSecret !== undefined ? { signingSecret: opts.signingSecret } : {}),
    ...(opts.publicUrl !== undefined ? { publicUrl: opts.publicUrl } : {}),
  });
  const app = express();
  app.use('/dtx', dtx.router);
  app.use(express.json());
  const view = (row: Record<keyof Account, unknown>): Account => ({ id: String(row.id), balance: Number(row.balance), frozen: Number(row.frozen), incoming: Number(row.incoming) });

  app.get('/accounts/:id', async (req, res) => {
    const row = (await knex('accounts').where('id', req.params.id).first()) as Record<keyof Account, unknown> | undefined;
    if (!row) return void res.status(404).json({ error: { code: 'ACCOUNT_NOT_FOUND', message: `unknown account ${req.params.id}` } });
    res.json(view(row));
  });
  app.put('/accounts/:id', async (req, res) => {
    const balance = (req.body as { balance?: unknown } | undefined)?.balance;
    if (req.params.id.length > 64 || !Number.isSafeInteger(balance) || (balance as number) < 0 || (balance as number) > MAX_AMOUNT) {
      return void res.status(400).json({ error: { code: 'INVALID_BALANCE', message: `balance must be an integer from 0 to ${MAX_AMOUNT}` } });
    }
    // Seeding sets the balance only: an in-flight reservation keeps its frozen / incoming.
    await knex('accounts').insert({ id: req.params.id, balance, frozen: 0, incoming: 0 }).onConflict('id').merge(['balance']);
    res.json(view((await knex('accounts').where('id', req.params.id).first()) as Record<keyof Account, unknown>));
  });
  const failed: ErrorRequestHandler = (err: Error, _req, res, _next) => void res.status(500).json({ error: { code: 'INTERNAL', message: err.message } });
  app.use(failed);

  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(opts.port ?? 4001, opts.host ?? '127.0.0.1', resolve));
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await dtx.close();
      await knex.destroy();
    },
  };
}
