import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child, printed } from './child.js';
import { FaultProxy } from './fault-proxy.js';
import { freePort } from '../test/support/free-port.js';
import type { Topology } from './topology.js';

/** The `dtx` CLI from its TypeScript sources, as the tests run it (no build step needed). */
const DTX_CLI = ['--import', 'tsx', fileURLToPath(new URL('../coordinator/src/cli/main.ts', import.meta.url))];
const WALLET_ENTRY = fileURLToPath(new URL('./wallet-process.ts', import.meta.url));

/** Timings of the coordinators and workers under test, short so a soak sees many rounds. */
export const TIMINGS = {
  callTimeoutMs: 2000,
  retryBaseMs: 200,
  retryMaxMs: 2000,
  phase2LeaseMs: 6000,
  sweepIntervalMs: 500,
  /** Every transaction of the load lives this long before recovery rolls it back. */
  txTimeoutMs: 10_000,
} as const;

export interface Wallet {
  child: Child;
  /** Where coordinators and initiators reach it (wallet B: through the fault proxy). */
  url: string;
  databaseUrl: string;
  overlapLog: string;
}

export interface Cluster {
  dir: string;
  /** The stores under it and their faults. */
  topology: Topology;
  logUrl: string;
  coordinators: Child[];
  coordinatorUrls: string[];
  workers: Child[];
  wallets: { a: Wallet; b: Wallet };
  proxy: FaultProxy;
  /** Every coordinator, worker and wallet, for "heal": start whatever is down. */
  all(): Child[];
}

/**
 * Everything the soak may kill, all of its own: on the stores of `topology` (started already),
 * two coordinators and two `dtx worker`s, wallet A on the topology's database and wallet B on
 * SQLite behind the fault proxy.
 */
export async function startCluster(dir: string, topology: Topology): Promise<Cluster> {
  const logUrl = topology.logUrl;
  const env = {
    DTX_HOST: '127.0.0.1',
    DTX_DATABASE_URL: logUrl,
    DTX_REDIS_URL: topology.redisUrl,
    DTX_QUEUE_PREFIX: topology.queuePrefix,
    DTX_CALL_TIMEOUT_MS: String(TIMINGS.callTimeoutMs),
    DTX_RETRY_BASE_MS: String(TIMINGS.retryBaseMs),
    DTX_RETRY_MAX_MS: String(TIMINGS.retryMaxMs),
    DTX_PHASE2_LEASE_MS: String(TIMINGS.phase2LeaseMs),
    DTX_SWEEP_INTERVAL_MS: String(TIMINGS.sweepIntervalMs),
  };
  const coordinators: Child[] = [];
  const coordinatorUrls: string[] = [];
  for (const n of [1, 2]) {
    const port = await freePort();
    const c = new Child(`coordinator-${n}`, { command: process.execPath, args: [...DTX_CLI, 'serve'], env: { ...env, DTX_PORT: String(port) }, ready: printed(/listening on/) });
    await c.start(); // one after the other: the first one migrates the log
    coordinators.push(c);
    coordinatorUrls.push(`http://127.0.0.1:${port}`);
  }
  const workers = [1, 2].map((n) => new Child(`worker-${n}`, { command: process.execPath, args: [...DTX_CLI, 'worker', '--concurrency', '8'], env, ready: printed(/dtx worker ready/) }));
  for (const w of workers) await w.start();

  const wallet = async (name: string, databaseUrl: string): Promise<{ child: Child; port: number; overlapLog: string }> => {
    const port = await freePort();
    const overlapLog = join(dir, `overlaps-${name}.jsonl`);
    const child = new Child(`wallet-${name}`, {
      command: process.execPath,
      args: ['--import', 'tsx', WALLET_ENTRY],
      env: { SOAK_WALLET_NAME: name, SOAK_WALLET_PORT: String(port), SOAK_WALLET_DATABASE_URL: databaseUrl, SOAK_OVERLAP_LOG: overlapLog },
      ready: printed(/"wallet"/),
    });
    await child.start();
    return { child, port, overlapLog };
  };
  const aUrl = topology.walletAUrl;
  const bUrl = `sqlite:${join(dir, 'wallet-b.db')}`;
  const a = await wallet('a', aUrl);
  const b = await wallet('b', bUrl);
  const proxy = new FaultProxy({ host: '127.0.0.1', port: b.port });
  await proxy.start();

  return {
    dir,
    topology,
    logUrl,
    coordinators,
    coordinatorUrls,
    workers,
    wallets: {
      a: { child: a.child, url: `http://127.0.0.1:${a.port}`, databaseUrl: aUrl, overlapLog: a.overlapLog },
      b: { child: b.child, url: proxy.url, databaseUrl: bUrl, overlapLog: b.overlapLog },
    },
    proxy,
    all() {
      return [...coordinators, ...workers, a.child, b.child];
    },
  };
}

/** Ends the faults: the proxy passes everything, and every process is up (the stores first). */
export async function heal(c: Cluster): Promise<void> {
  c.proxy.set({ kind: 'pass' });
  await c.topology.heal();
  for (const child of c.all()) if (!child.alive) await child.start();
}
