import { CoordinatorClient, ensureBarrierTable, ensureFmtTables, knexFromUrl, participantPlugin, withGlobalLock, type FmtOptions, type XaOptions } from '@dtx/participant-sdk';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { ensureAccountsTable } from './accounts-table.js';
import { openAccount } from './open-account.js';
import { FmtWallet } from './fmt-wallet.js';
import { SagaWallet } from './saga-wallet.js';
import { MAX_AMOUNT, Wallet, type Account } from './wallet.js';
import { XaWallet } from './xa-wallet.js';

export interface WalletServerOptions {
  /** `sqlite:<path>`, `mysql://…` or `postgres://…`. */
  databaseUrl: string;
  /** 0 picks a free port. @default 4001 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** When set, callbacks must be signed with it, for this wallet's URL. */
  signingSecret?: string;
  /** The URL the coordinator calls this wallet at, when not the address it listens on (a proxy, `localhost`). */
  publicUrl?: string;
  /** Accept unbound v1 signatures too (a rolling upgrade from coordinators before v2). @default false */
  acceptV1Signatures?: boolean;
  /**
   * `xa`: the XA wallet (`xawallet.debit` / `xawallet.credit`, MySQL / MariaDB); `fmt`: the FMT
   * wallet (`fmtwallet.*`, MySQL / MariaDB / PostgreSQL). Their accounts show `{ id, balance }`. @default 'tcc'
   */
  mode?: 'tcc' | 'xa' | 'fmt';
  /** The plugin's XA settings, for mode `xa`. */
  xa?: XaOptions;
  /** The plugin's FMT settings, for mode `fmt`. */
  fmt?: FmtOptions;
  /**
   * With both, `POST /accounts/:id/open` opens an account and sends the mailer's welcome
   * mail as one message (mode `tcc`): the coordinator, and the mailer's base URL.
   */
  messages?: { coordinatorUrl: string; coordinatorToken?: string; mailerUrl: string; timeoutMs?: number };
}

export interface WalletServer {
  readonly app: FastifyInstance;
  readonly knex: Knex;
  /** `http://host:port` once started. */
  readonly url: string;
  start(): Promise<void>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The bank example's wallet: accounts API plus the `wallet.debit` / `wallet.credit` TCC actions (or, in mode `xa` / `fmt`, the XA / FMT ones), and in mode `tcc` the saga wallet's `sagawallet.debit` / `sagawallet.credit`. */
export function createWalletServer(opts: WalletServerOptions): WalletServer {
  const knex = knexFromUrl(opts.databaseUrl);
  const app = Fastify({ logger: false });
  const xa = opts.mode === 'xa';
  const plain = opts.mode === 'xa' || opts.mode === 'fmt';
  const view = (row: Record<keyof Account, unknown>) =>
    plain ? { id: String(row.id), balance: Number(row.balance) } : ({ id: String(row.id), balance: Number(row.balance), frozen: Number(row.frozen), incoming: Number(row.incoming) } satisfies Account);
  let url = '';

  app.register(participantPlugin, {
    knex,
    // the TCC wallet also serves the saga wallet's actions (`sagawallet.*`) on the same accounts
    participants: xa ? [new XaWallet()] : opts.mode === 'fmt' ? [new FmtWallet()] : [new Wallet(), new SagaWallet()],
    ...(opts.xa !== undefined ? { xa: opts.xa } : {}),
    ...(opts.fmt !== undefined ? { fmt: opts.fmt } : {}),
    ...(opts.signingSecret !== undefined ? { signingSecret: opts.signingSecret } : {}),
    ...(opts.publicUrl !== undefined ? { publicUrl: opts.publicUrl } : {}),
    ...(opts.acceptV1Signatures !== undefined ? { acceptV1Signatures: opts.acceptV1Signatures } : {}),
  });

  app.get<{ Params: { id: string } }>('/accounts/:id', async (req, reply) => {
    const row = (await knex('accounts').where('id', req.params.id).first()) as Record<keyof Account, unknown> | undefined;
    if (!row) return reply.code(404).send({ error: { code: 'ACCOUNT_NOT_FOUND', message: `unknown account ${req.params.id}` } });
    // BIGINT arrives as a string from pg; amounts are bounded so a number is exact.
    return view(row);
  });

  app.put<{ Params: { id: string }; Body: { balance: number } }>(
    '/accounts/:id',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } },
        body: { type: 'object', required: ['balance'], properties: { balance: { type: 'integer', minimum: 0, maximum: MAX_AMOUNT } } },
      },
    },
    async (req) => {
      // Seeding sets the balance only: an in-flight reservation keeps its frozen / incoming.
      // The FMT wallet's seeding waits for rows an undecided FMT branch holds (withGlobalLock), so it never makes a rollback dirty.
      if (opts.mode === 'fmt') await withGlobalLock(knex, (trx) => seedBalance(trx, req.params.id, req.body.balance));
      else await knex('accounts').insert({ id: req.params.id, balance: req.body.balance, frozen: 0, incoming: 0 }).onConflict('id').merge(['balance']);
      const row = (await knex('accounts').where('id', req.params.id).first()) as Record<keyof Account, unknown>;
      return view(row);
    },
  );

  const messages = opts.messages;
  const coordinator = messages && new CoordinatorClient({ url: messages.coordinatorUrl, ...(messages.coordinatorToken ? { token: messages.coordinatorToken } : {}), ...(opts.signingSecret ? { signingSecret: opts.signingSecret } : {}) });
  if (messages && coordinator) {
    app.post<{ Params: { id: string }; Body: { balance: number } }>(
      '/accounts/:id/open',
      {
        schema: {
          params: { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } },
          body: { type: 'object', required: ['balance'], properties: { balance: { type: 'integer', minimum: 0, maximum: MAX_AMOUNT } } },
        },
      },
      async (req, reply) => {
        if (await knex('accounts').where('id', req.params.id).first('id')) {
          return reply.code(409).send({ error: { code: 'ACCOUNT_EXISTS', message: `account ${req.params.id} exists` } });
        }
        const walletUrl = opts.publicUrl ?? url;
        const opened = await openAccount(coordinator, knex, { account: req.params.id, balance: req.body.balance, walletUrl, mailerUrl: messages.mailerUrl, ...(messages.timeoutMs ? { timeoutMs: messages.timeoutMs } : {}) });
        return reply.code(201).send({ xid: opened.xid, status: opened.status, account: opened.result.account });
      },
    );
  }

  const close = async (): Promise<void> => {
    await app.close();
    await coordinator?.close();
    await knex.destroy();
  };

  return {
    app,
    knex,
    get url() {
      return url;
    },
    async start() {
      await (opts.mode === 'fmt' ? ensureFmtTables(knex) : ensureBarrierTable(knex));
      await ensureAccountsTable(knex);
      await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 4001 });
      const addr = app.server.address();
      url = typeof addr === 'object' && addr ? `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : '';
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Sets an account's balance, creating it if new, with plain writes (no upsert, which FMT's checks refuse). */
async function seedBalance(trx: Knex.Transaction, id: string, balance: number): Promise<void> {
  const updated = await trx('accounts').where('id', id).update({ balance });
  if (updated === 0) await trx('accounts').insert({ id, balance, frozen: 0, incoming: 0 });
}
