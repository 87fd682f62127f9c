import { ensureBarrierTable, knexFromUrl, participantPlugin } from '@dtx/participant-sdk';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { ensureMailsTable, Mailer, type Mail } from './mailer.js';

export interface MailerServerOptions {
  /** `sqlite:<path>`, `mysql://…` or `postgres://…`. */
  databaseUrl: string;
  /** 0 picks a free port. @default 4010 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** When set, deliveries must be signed with it, for this mailer's URL. */
  signingSecret?: string;
}

export interface MailerServer {
  readonly knex: Knex;
  readonly app: FastifyInstance;
  /** `http://host:port` once started. */
  readonly url: string;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** The bank example's mailer: the `mailer.welcome` message action, and `GET /mails/:account`. */
export function createMailerServer(opts: MailerServerOptions): MailerServer {
  const knex = knexFromUrl(opts.databaseUrl);
  const app = Fastify({ logger: false });
  let url = '';
  app.register(participantPlugin, { knex, participants: [new Mailer()], ...(opts.signingSecret !== undefined ? { signingSecret: opts.signingSecret } : {}) });
  app.get<{ Params: { account: string } }>('/mails/:account', async (req) => {
    const rows = (await knex('mails').where('account', req.params.account).orderBy('id').select('id', 'account', 'kind')) as Mail[];
    return { items: rows };
  });
  return {
    knex,
    app,
    get url() {
      return url;
    },
    async start() {
      await ensureBarrierTable(knex);
      await ensureMailsTable(knex);
      url = await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 4010 });
    },
    async close() {
      await app.close();
      await knex.destroy();
    },
  };
}
