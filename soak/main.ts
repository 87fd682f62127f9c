// `npm run soak -- --seconds 300 [--cluster | --store postgres]`: transfers under faults, then the invariants. See docs/soak.md.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { knexFromUrl } from '@dtx/participant-sdk';
import { killAllNow, stopAll } from './child.js';
import { checkInvariants } from './checks.js';
import { heal, startCluster, type Cluster } from './cluster.js';
import { newFaultLog, runFaults } from './faults.js';
import { ACCOUNTS, Load, OPENING_BALANCE } from './load.js';
import { printSummary } from './summary.js';
import type { Topology } from './topology.js';
import { startClusteredTopology } from './topology-clustered.js';
import { startMariadbTopology } from './topology-mariadb.js';
import { startPostgresTopology } from './topology-postgres.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '120' },
    concurrency: { type: 'string', default: '8' },
    cluster: { type: 'boolean', default: false },
    store: { type: 'string', default: 'mariadb' },
    // one round of every fault type, the load lasting until it is done (at least --seconds): a smoke run that misses none
    'faults-once': { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
if (!Number.isSafeInteger(seconds) || seconds < 10) throw new Error(`--seconds must be a whole number ≥ 10, got ${values.seconds}`);
if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new Error(`--concurrency must be 1–64, got ${values.concurrency}`);
if (values.store !== 'mariadb' && values.store !== 'postgres') throw new Error(`--store must be mariadb or postgres, got ${values.store}`);
if (values.cluster && values.store !== 'mariadb') throw new Error('--cluster runs the log on Galera (MariaDB); it does not take --store postgres');
const startTopology = (): Promise<Topology> => (values.cluster ? startClusteredTopology() : values.store === 'postgres' ? startPostgresTopology(dir) : startMariadbTopology(dir));
const QUIESCENCE_MS = 120_000;

const dir = mkdtempSync(join(tmpdir(), 'dtx-soak-'));
let cleaned = false;
let topology: Topology | null = null;
const cleanUpNow = () => {
  if (cleaned) return;
  cleaned = true;
  killAllNow();
  topology?.removeNow();
  rmSync(dir, { recursive: true, force: true });
};
process.once('exit', cleanUpNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n[soak] ${signal}: stopping everything it started`);
    cleanUpNow();
    process.exit(130);
  });
}

async function seed(c: Cluster): Promise<void> {
  for (const [wallet, ids] of [[c.wallets.a, ACCOUNTS.a], [c.wallets.b, ACCOUNTS.b]] as const) {
    for (const id of ids) {
      const res = await fetch(`${wallet.url}/accounts/${id}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ balance: OPENING_BALANCE }) });
      if (res.status !== 200) throw new Error(`seeding ${id}: HTTP ${res.status}`);
    }
  }
}

/** Waits until no transaction in the log is unfinished; false if that does not happen in time. */
async function quiescent(c: Cluster): Promise<boolean> {
  const log = knexFromUrl(c.logUrl);
  try {
    const until = Date.now() + QUIESCENCE_MS;
    while (Date.now() < until) {
      const [{ n }] = (await log('dtx_global_tx').whereNotIn('status', ['committed', 'rolled_back']).count({ n: '*' })) as [{ n: number }];
      if (Number(n) === 0) return true;
      await sleep(1000);
    }
    return false;
  } finally {
    await log.destroy();
  }
}

async function main(): Promise<number> {
  const started = Date.now();
  console.log(`[soak] ${seconds} s of load at concurrency ${concurrency}, in ${dir}`);
  topology = await startTopology();
  console.log(`[soak] stores up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${topology.describe}`);
  const cluster = await startCluster(dir, topology);
  await seed(cluster);
  console.log(`[soak] cluster up in ${((Date.now() - started) / 1000).toFixed(1)} s: coordinators ${cluster.coordinatorUrls.join(' ')}, wallets ${cluster.wallets.a.url} ${cluster.wallets.b.url} (proxied)`);
  const untilMs = Date.now() + seconds * 1000;
  const once = values['faults-once'];
  const load = new Load(cluster, { concurrency, untilMs: once ? Infinity : untilMs, maxOps: seconds * 200, runId: Date.now().toString(36) });
  const faults = newFaultLog(cluster);
  const faulting = once
    ? runFaults(cluster, faults, { rounds: 1 }).then(() => load.stopAt(Math.max(untilMs, Date.now() + 3000)))
    : runFaults(cluster, faults, { untilMs: untilMs - 3000 });
  const loadStarted = Date.now();
  await Promise.all([load.run(), faulting]);
  const loadS = (Date.now() - loadStarted) / 1000;
  console.log(`[soak] load done (${load.ops.length} transfers); healing and waiting for quiescence`);
  await heal(cluster);
  const settled = await quiescent(cluster);
  const result = await checkInvariants(cluster, load.ops, faults);
  if (!settled) result.violations.unshift(`the log was not quiescent ${QUIESCENCE_MS / 1000} s after healing`);
  await load.close();
  await cluster.proxy.close();
  await stopAll();
  await topology.close();
  printSummary({ topology: topology.describe, notes: topology.notes?.() ?? [], loadS, seconds, elapsedS: (Date.now() - started) / 1000, faults, ops: load.ops, result });
  return result.violations.length === 0 ? 0 : 1;
}

main()
  .then((code) => {
    cleanUpNow();
    process.exit(code);
  })
  .catch((err: unknown) => {
    console.error('[soak] failed:', err);
    cleanUpNow();
    process.exit(2);
  });
