import { CoordinatorClient, ensureBarrierTable, knexFromUrl, type ParticipantCallbacks } from '@dtx/participant-sdk';
import { DTX_PARTICIPANT_CALLBACKS, DtxParticipantModule } from '@dtx/participant-sdk/nest';
import { NestFactory } from '@nestjs/core';
import { describe, expect, it } from 'vitest';
import { freshDatabase } from '../support/services.js';
import { Probe } from './support/test-participants.js';

describe('DtxParticipantModule under Nest', () => {
  it('provides the participant and the initiator client, and app.close() closes what the module opened', async () => {
    const db = await freshDatabase('sqlite', 'nest_lifecycle');
    const knex = knexFromUrl(db.url);
    try {
      await ensureBarrierTable(knex);
      class AppModule {}
      const module = DtxParticipantModule.forRoot({ knex, participants: [Probe], coordinator: { url: 'http://127.0.0.1:9' }, log: { info() {}, warn() {}, error() {} } });
      const app = await NestFactory.create({ module: AppModule, imports: [module] }, { logger: false });
      await app.init();
      expect(app.get(Probe)).toBeInstanceOf(Probe);
      const client = app.get(CoordinatorClient);
      expect(client).toBeInstanceOf(CoordinatorClient);
      const callbacks = app.get<string, ParticipantCallbacks>(DTX_PARTICIPANT_CALLBACKS);
      expect(callbacks.routes).toEqual(['/_msg/check', '/probe.act/try', '/probe.act/confirm', '/probe.act/cancel']);
      const closed: string[] = [];
      const [closeCallbacks, closeClient] = [callbacks.close.bind(callbacks), client.close.bind(client)];
      callbacks.close = async () => {
        await closeCallbacks();
        closed.push('participant');
      };
      client.close = async () => {
        await closeClient();
        closed.push('client');
      };
      await app.close();
      expect(closed.sort()).toEqual(['client', 'participant']);
    } finally {
      await knex.destroy();
      await db.drop();
    }
  });

  it('refuses a platform it does not serve, naming the package that does', async () => {
    const db = await freshDatabase('sqlite', 'nest_platform');
    const knex = knexFromUrl(db.url);
    try {
      class AppModule {}
      const module = DtxParticipantModule.forRoot({ knex, participants: [Probe] });
      // an application context has no HTTP adapter at all
      await expect(NestFactory.createApplicationContext({ module: AppModule, imports: [module] }, { logger: false, abortOnError: false })).rejects.toThrow(
        'needs the @nestjs/platform-express package',
      );
    } finally {
      await knex.destroy();
      await db.drop();
    }
  });
});
