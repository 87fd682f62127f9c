import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { drainLines, drainSummary, withDrain, type DrainResult } from './drain-summary.js';
import type { WsrepCounters } from './galera.js';
import type { Row } from './measure.js';
import { ALL, BASELINE, NEEDS_COORDINATOR, type ScenarioName } from './options.js';
import { formatSummary, summarise } from './profile-summary.js';
import type { StoreKind } from './store.js';

const f = (n: number | null | undefined, d = 1) => (n === null || n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(d));
const round = (n: number, d: number) => Math.round(n * 10 ** d) / 10 ** d;

/** A scenario's progress line, printed as each round ends. */
export function rowLine(r: Row): string {
  const load = r.load;
  return `  ${r.scenario.padEnd(10)} round ${r.round}: ${f(load.tps, 0)} tx/s, p50 ${f(load.p50Ms, 2)} ms, p99 ${f(load.p99Ms, 2)} ms, ${load.errors} errors${load.firstError ? ` (first: ${load.firstError})` : ''}`;
}

/** After a galera scenario: where the cluster's cost went, per transaction completed. */
export function wsrepLine(scenario: string, before: WsrepCounters, after: WsrepCounters, txs: number): string {
  const per = (k: keyof WsrepCounters, scale = 1) => (txs ? ((after[k] - before[k]) * scale) / txs : NaN);
  return `  ${scenario.padEnd(10)} cluster: nodes CPU ${f(per('nodesCpuS', 1000), 2)} ms/tx, HAProxy CPU ${f(per('proxyCpuS', 1000), 2)} ms/tx, ${f(per('replicated'), 2)} write sets/tx of ${f(per('replicatedBytes'), 0)} bytes/tx, certification failures ${after.certFailures - before.certFailures}, brute-force aborts ${after.bfAborts - before.bfAborts}, flow-control pauses ${after.flowControlSent - before.flowControlSent}`;
}

/** One figure per scenario: the median round by throughput, with its ratio to its baseline's. */
export function pickMedians(rows: Row[]): Map<ScenarioName, Row> {
  const pick = new Map<ScenarioName, Row>();
  for (const s of ALL) {
    const rs = rows.filter((r) => r.scenario === s).sort((a, b) => a.load.tps - b.load.tps);
    if (rs.length) pick.set(s, rs[Math.floor((rs.length - 1) / 2)]!);
  }
  for (const [s, r] of pick) {
    const base = BASELINE[s] ? pick.get(BASELINE[s]!) : undefined;
    r.ratio = base && base.load.tps > 0 ? r.load.tps / base.load.tps : null;
  }
  return pick;
}

export interface Report {
  rows: Row[];
  /** The coordinator's VmHWM, read just before it stopped. */
  peakRssMb: number | null;
  /** Where the coordinator wrote its CPU profiles, with --profile. */
  profileDir: string | null;
  /** The log's store: 'mysql', 'postgres' or 'sqlite'. */
  store: StoreKind;
  /** The drain scenario's timings, when it ran. */
  drain?: DrainResult | null;
}

/** The table, its notes, the profile summary, and on the last line the same figures as one JSON object. */
export function printReport({ rows, peakRssMb, profileDir, store, drain = null }: Report, log: (s: string) => void): void {
  const pick = pickMedians(rows);
  const drained = drain ? drainSummary(drain, pick.get('driven')?.load.tps ?? null) : null;
  const server = { mysql: 'MySQL', postgres: '   PG', sqlite: 'SQLite' }[store];
  log('');
  log(`scenario     round      tx/s   p50 ms   p99 ms   ratio  errors  ${server} commits/tx  log commits/tx  log writes/tx  coord req/tx  coord RSS MB  heap MB  coord CPU ms/tx  ${server} CPU ms/tx  participants CPU ms/tx  generator CPU ms/tx`);
  for (const r of rows) {
    const shown = pick.get(r.scenario) === r ? r.ratio : null;
    log(
      `${r.scenario.padEnd(12)} ${String(r.round).padStart(5)} ${f(r.load.tps, 0).padStart(9)} ${f(r.load.p50Ms, 2).padStart(8)} ${f(r.load.p99Ms, 2).padStart(8)} ${(shown === null ? (BASELINE[r.scenario] ? '' : 'base') : f(shown, 2)).padStart(7)} ${String(r.load.errors).padStart(7)} ${f(r.storeCommitsPerTx, 2).padStart(17)} ${f(r.logCommitsPerTx, 2).padStart(15)} ${f(r.logWritesPerTx, 2).padStart(14)} ${f(r.coordinatorRequestsPerTx, 2).padStart(13)} ${f(r.coordinatorRssMb, 0).padStart(13)} ${f(r.coordinatorHeapMb, 0).padStart(8)} ${f(r.coordinatorCpuMsPerTx, 2).padStart(16)} ${f(r.storeCpuMsPerTx, 2).padStart(16)} ${f(r.participantsCpuMsPerTx, 2).padStart(23)} ${f(r.generatorCpuMsPerTx, 2).padStart(20)}`,
    );
  }
  log('');
  log('CPU ms/tx: user+system CPU each process used during the scenario (warmup included) / transactions completed; steadier than tx/s on a shared machine. In relay, the coordinator columns are the relay\'s.');
  log(
    {
      mysql: 'MySQL commits/tx: server-wide Com_commit (COMMIT statements) over the scenario / transactions completed; for bank it includes the wallets\' own commits.',
      postgres: 'PG commits/tx: server-wide write transactions (transaction ids assigned) over the scenario / transactions completed.',
      sqlite: 'SQLite: no server; the log\'s work is in the coordinator\'s CPU, its commits in log commits/tx.',
    }[store],
  );
  if (rows.some((r) => r.scenario.startsWith('galera'))) log('galera rows: the commits and CPU columns are the Galera cluster\'s, its three nodes and HAProxy together (commits: COMMIT statements clients ran on any node); the cluster line under each says how they divide. With two coordinators the coordinator columns are both together.');
  log('log writes/tx: writes the coordinator asked its log for (each one transition, before group commit puts several in one commit and one statement), counted in its process by bench/log-counter.ts, / transactions completed; the SQL statements it ran, by kind, are in the JSON line (logStatementsPerTx).');
  log(`coordinator peak RSS (VmHWM): ${f(peakRssMb, 0)} MB`);
  if (drained) for (const line of ['', ...drainLines(drained)]) log(line);
  if (profileDir !== null) {
    const files = existsSync(profileDir) ? readdirSync(profileDir).filter((x) => x.endsWith('.cpuprofile')) : [];
    // one profile per thread: the main thread's is the largest (tsx's loader thread mostly idles)
    const main = files.map((x) => join(profileDir, x)).sort((a, b) => statSync(b).size - statSync(a).size)[0];
    if (main) log(`\n${main}\n${formatSummary(summarise(JSON.parse(readFileSync(main, 'utf8')), 30))}`);
    else log('no CPU profile was written');
  }

  const json = {
    scenarios: Object.fromEntries(
      [...pick].map(([s, r]) => [s, scenarioJson(s, r, store)]),
    ),
    store,
    storeCommitsPerTx: pick.get('driven')?.storeCommitsPerTx == null ? null : round(pick.get('driven')!.storeCommitsPerTx!, 3),
    coordinatorPeakRssMb: peakRssMb === null ? null : round(peakRssMb, 1),
  };
  console.log(JSON.stringify(withDrain(json, drained)));
}

const orNull = (n: number | null, d: number) => (n === null || !Number.isFinite(n) ? null : round(n, d));

/** A scenario in the JSON line: throughput, latency, ratio, what it cost per transaction, and (DTX scenarios) its coordinator requests. */
function scenarioJson(s: ScenarioName, r: Row, store: StoreKind): Record<string, unknown> {
  return {
    tps: round(r.load.tps, 1),
    p50Ms: round(r.load.p50Ms, 2),
    p99Ms: round(r.load.p99Ms, 2),
    ...(BASELINE[s] ? { ratio: orNull(r.ratio, 3) } : {}),
    // in relay, `coordinator` is the relay's
    cpuMsPerTx: { coordinator: orNull(r.coordinatorCpuMsPerTx, 3), [store]: orNull(r.storeCpuMsPerTx, 3), participants: orNull(r.participantsCpuMsPerTx, 3), generator: orNull(r.generatorCpuMsPerTx, 3) },
    ...(NEEDS_COORDINATOR.has(s) ? { coordinatorRequestsPerTx: orNull(r.coordinatorRequestsPerTx, 2), logCommitsPerTx: orNull(r.logCommitsPerTx, 3), logWritesPerTx: orNull(r.logWritesPerTx, 3), logStatementsPerTx: r.logStatementsPerTx && Object.fromEntries(Object.entries(r.logStatementsPerTx).map(([k, n]) => [k, round(n, 3)])), storeCommitsPerTx: orNull(r.storeCommitsPerTx, 3) } : {}),
  };
}
