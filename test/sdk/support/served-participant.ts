import { ensureBarrierTable, knexFromUrl, participantPlugin } from '@dtx/participant-sdk';
import Fastify from 'fastify';
import { freshDatabase } from '../../support/services.js';

export interface ServedParticipant {
  url: string;
  close(): Promise<void>;
}

/** One participant instance behind the SDK plugin on a real port, its barrier on a fresh SQLite file. */
export async function serveParticipant(instance: object, opts: { signingSecret?: string } = {}): Promise<ServedParticipant> {
  const db = await freshDatabase('sqlite', 'served');
  const knex = knexFromUrl(db.url);
  await ensureBarrierTable(knex);
  const app = Fastify();
  await app.register(participantPlugin, { knex, participants: [instance], ...opts });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    async close() {
      await app.close();
      await knex.destroy();
      await db.drop();
    },
  };
}
