import { CoordinatorClient } from '@dtx/participant-sdk';
import { createCoordinator, type Coordinator, type CoordinatorOptions } from '../../coordinator/src/index.js';
import { freshDatabase, type FreshDatabase, type StoreKind } from './services.js';

/** The one set of small retry, lease and sweep settings the in-process suites run with, so they stay fast. */
export const FAST: CoordinatorOptions = {
  retryBaseMs: 20,
  retryMaxMs: 100,
  callTimeoutMs: 1000,
  phase2LeaseMs: 2000,
  sweepIntervalMs: 50,
  // decisions (info) and failed calls (warn), which many suites provoke, stay out of the test output
  logLevel: 'error',
};

export interface StartOptions extends CoordinatorOptions {
  /** The log's store. @default 'sqlite' */
  kind?: StoreKind;
  /** Names the fresh database. @default 'coordinator' */
  label?: string;
  /** Share this database (another coordinator's) instead of a fresh one; it is not dropped on close. */
  db?: FreshDatabase;
}

export interface Running {
  c: Coordinator;
  db: FreshDatabase;
  url: string;
  /** An SDK client of this coordinator, with its first API token and its signing secret. */
  client: CoordinatorClient;
  close(): Promise<void>;
}

/** A coordinator on 127.0.0.1, on a fresh database of `kind`, with FAST settings under `options`. */
export async function startCoordinator({ kind = 'sqlite', label = 'coordinator', db: shared, ...options }: StartOptions = {}): Promise<Running> {
  const db = shared ?? (await freshDatabase(kind, label));
  const c = createCoordinator({ databaseUrl: db.url, port: 0, host: '127.0.0.1', ...FAST, ...options });
  await c.start();
  const clientOpts: ConstructorParameters<typeof CoordinatorClient>[0] = { url: c.url };
  if (options.apiTokens?.[0] !== undefined) clientOpts.token = options.apiTokens[0];
  if (options.signingSecret !== undefined) clientOpts.signingSecret = options.signingSecret;
  const client = new CoordinatorClient(clientOpts);
  return {
    c,
    db,
    url: c.url,
    client,
    async close() {
      await client.close();
      await c.close({ timeoutMs: 2000 });
      if (!shared) await db.drop();
    },
  };
}
