import { CoordinatorClient } from '@dtx/participant-sdk';
import type { TxStatus, TxView } from '@dtx/protocol';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCoordinator, type Coordinator, type CoordinatorOptions } from '../../../coordinator/src/index.js';
import { freshDatabase, type FreshDatabase } from '../../support/services.js';

export interface TestCoordinator {
  coordinator: Coordinator;
  client: CoordinatorClient;
  url: string;
  close(): Promise<void>;
}

/** A real coordinator on a fresh SQLite log, with fast retries and sweeps so tests finish quickly. */
export async function startCoordinator(options: CoordinatorOptions = {}): Promise<TestCoordinator> {
  const db: FreshDatabase = await freshDatabase('sqlite', 'coordinator');
  const coordinator = createCoordinator({
    databaseUrl: db.url,
    port: 0,
    host: '127.0.0.1',
    retryBaseMs: 50,
    retryMaxMs: 400,
    sweepIntervalMs: 100,
    phase2LeaseMs: 1000,
    callTimeoutMs: 2000,
    ...options,
  });
  await coordinator.start();
  const clientOpts: ConstructorParameters<typeof CoordinatorClient>[0] = { url: coordinator.url };
  if (options.apiTokens?.[0] !== undefined) clientOpts.token = options.apiTokens[0];
  if (options.signingSecret !== undefined) clientOpts.signingSecret = options.signingSecret;
  const client = new CoordinatorClient(clientOpts);
  return {
    coordinator,
    client,
    url: coordinator.url,
    async close() {
      await client.close();
      await coordinator.close({ timeoutMs: 1000 });
      await db.drop();
    },
  };
}

/** Polls the coordinator until the transaction reaches `status`, or fails with its last view. */
export async function waitForStatus(client: CoordinatorClient, xid: string, status: TxStatus, timeoutMs = 20_000): Promise<TxView> {
  const until = Date.now() + timeoutMs;
  let view = await client.get(xid);
  while (view.status !== status) {
    if (Date.now() > until) throw new Error(`transaction ${xid} is ${view.status}, not ${status}, after ${timeoutMs} ms: ${JSON.stringify(view)}`);
    await sleep(50);
    view = await client.get(xid);
  }
  return view;
}
