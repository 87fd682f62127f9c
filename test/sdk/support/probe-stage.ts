import { actionRef, ensureBarrierTable, knexFromUrl, participantPlugin, type ActionRef, type CoordinatorClient } from '@dtx/participant-sdk';
import Fastify from 'fastify';
import { afterEach } from 'vitest';
import { freshDatabase } from '../../support/services.js';
import { startCoordinator, type TestCoordinator } from './coordinator.js';
import { Probe } from './test-participants.js';

export type ProbePayload = { do: 'ok' | 'reject' | 'crash'; failAttempts?: number; cancelDelayMs?: number };

/** A coordinator (fresh SQLite log) and one real participant serving Probe's `probe.act` behind the barrier. */
export interface ProbeStage {
  coord: TestCoordinator;
  client: CoordinatorClient;
  participant: Probe;
  probe: ActionRef<ProbePayload, { attempt: number; xid: string }>;
  close(): Promise<void>;
}

export async function startProbeStage(label: string): Promise<ProbeStage> {
  const coord = await startCoordinator();
  const db = await freshDatabase('sqlite', label);
  const knex = knexFromUrl(db.url);
  await ensureBarrierTable(knex);
  const participant = new Probe();
  const app = Fastify();
  await app.register(participantPlugin, { knex, participants: [participant] });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  return {
    coord,
    client: coord.client,
    participant,
    probe: actionRef<ProbePayload, { attempt: number; xid: string }>(base, 'probe.act'),
    async close() {
      await coord.close();
      await app.close();
      await knex.destroy();
      await db.drop();
    },
  };
}

/** For a describe block: `setUp()` starts a stage, closed after each test; `participant` and `coord` are the current one's. */
export function useProbeStage(label: string) {
  let stage: ProbeStage | undefined;
  afterEach(async () => {
    await stage?.close();
    stage = undefined;
  });
  return {
    setUp: async () => (stage = await startProbeStage(label)),
    get participant(): Probe {
      return stage!.participant;
    },
    get coord(): TestCoordinator {
      return stage!.coord;
    },
  };
}
