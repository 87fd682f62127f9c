import { spawn } from 'node:child_process';
import { request } from 'undici';
import type { LoadConfig, LoadResult } from './load.js';
import { NEEDS_COORDINATOR, type ScenarioName } from './options.js';
import { cpuSecondsOf, memoryOf, REPO_ROOT, type Child } from './processes.js';
import { growthPerTx, logCounts, type LogCounts } from './log-counts.js';
import type { StoreAdmin } from './store.js';

export interface Row {
  scenario: ScenarioName;
  round: number;
  load: LoadResult;
  ratio: number | null;
  /** The log server's commits (server-wide: MySQL COMMITs, PostgreSQL write transactions) per transaction completed during the scenario. */
  storeCommitsPerTx: number | null;
  /** Commits the coordinator's group-commit writer made, per transaction. */
  logCommitsPerTx: number | null;
  /** Log writes the coordinator asked for (transitions, before group commit batches them), per transaction, counted in the process (log-counter.ts). */
  logWritesPerTx: number | null;
  /** The SQL statements its knex ran per transaction, by first keyword (insert, update, select, begin, commit, …). */
  logStatementsPerTx: Record<string, number> | null;
  /** API requests (`/v1/…`) the coordinator answered, per transaction (from its dtx_http_requests_total). */
  coordinatorRequestsPerTx: number | null;
  coordinatorRssMb: number | null;
  /** V8 heap in use after the scenario (from /metrics): tells a leak from a heap that grew once. */
  coordinatorHeapMb: number | null;
  /** CPU milliseconds per transaction: the coordinator processes (both, with two), and the log's server (whole server, when it runs here). */
  coordinatorCpuMsPerTx: number | null;
  storeCpuMsPerTx: number | null;
  /** The same for the participants together: the two no-op participants, or the two wallets for bank-bare and bank. */
  participantsCpuMsPerTx: number | null;
  generatorCpuMsPerTx: number | null;
}

/** The processes a scenario runs against, and where to count what it costs. */
export interface Stage {
  admin: StoreAdmin;
  /** The coordinators the scenario's load goes to (none for bare and bank-bare). */
  coordinators: Child[];
  relay: Child | null;
  participants: Child[];
  /** The wallets, for bank-bare and bank. */
  bank: { servers: Child[]; urls: string[] } | null;
}

/** Runs one scenario's load against `stage` and measures what it cost each process. */
export async function measureScenario(stage: Stage, config: LoadConfig & { scenario: ScenarioName }, round: number, timeoutMs: number): Promise<Row> {
  const { admin, relay, bank, participants } = stage;
  const scenario = config.scenario;
  const isDtx = NEEDS_COORDINATOR.has(scenario);
  const coordinators = isDtx ? stage.coordinators : [];
  const before = await admin.commits();
  const metricsBefore = coordinators.length ? await scrapeAll(coordinators) : null;
  const countsBefore = coordinators.length ? await logCountsOf(coordinators) : null;
  const cpu = async () => ({
    // the process in the coordinator's place: the relay stands in for it in `relay`; with two coordinators, both
    coordinator: scenario === 'relay' ? await cpuSecondsOf(relay!.proc.pid!) : coordinators.length ? await sumCpuSecondsOf(coordinators.map((c) => c.proc.pid!)) : null,
    store: await admin.cpuSeconds(),
    participants: await sumCpuSecondsOf((scenario.startsWith('bank') ? bank!.servers : participants).map((c) => c.proc.pid!)),
  });
  const cpuBefore = await cpu();
  const load = await runLoad(config, timeoutMs);
  const cpuAfter = await cpu();
  const perTx = (a: number | null, b: number | null) => (a === null || b === null || !load.completed ? null : ((b - a) * 1000) / load.completed);
  const after = await admin.commits();
  const metricsAfter = metricsBefore ? await scrapeAll(coordinators) : null;
  const countsAfter = countsBefore ? await logCountsOf(coordinators) : null;
  const txs = load.completed;
  const countsPerTx = countsBefore && countsAfter && txs ? growthPerTx(countsBefore, countsAfter, txs) : null;
  const mem = coordinators.length ? await memoryOf(coordinators[0]!.proc.pid!) : null;
  return {
    scenario,
    round,
    load,
    ratio: null,
    storeCommitsPerTx: txs && before !== null && after !== null ? (after - before) / txs : null,
    logCommitsPerTx: metricsBefore && metricsAfter && txs ? (metricsAfter.get('dtx_log_commits')! - metricsBefore.get('dtx_log_commits')!) / txs : null,
    logWritesPerTx: countsPerTx?.writes ?? null,
    logStatementsPerTx: countsPerTx?.statements ?? null,
    coordinatorRequestsPerTx: metricsBefore && metricsAfter && txs ? ((metricsAfter.get(API_REQUESTS) ?? 0) - (metricsBefore.get(API_REQUESTS) ?? 0)) / txs : null,
    coordinatorRssMb: mem?.rssMb ?? null,
    coordinatorHeapMb: metricsAfter?.has('dtx_process_nodejs_heap_size_used_bytes') ? metricsAfter.get('dtx_process_nodejs_heap_size_used_bytes')! / 2 ** 20 : null,
    coordinatorCpuMsPerTx: perTx(cpuBefore.coordinator, cpuAfter.coordinator),
    storeCpuMsPerTx: perTx(cpuBefore.store, cpuAfter.store),
    participantsCpuMsPerTx: perTx(cpuBefore.participants, cpuAfter.participants),
    generatorCpuMsPerTx: load.completed ? load.cpuMs / load.completed : null,
  };
}

/** Runs the load generator to completion and returns its result. */
function runLoad(config: LoadConfig, timeoutMs: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'bench/load.ts', JSON.stringify(config)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    const onExit = () => proc.kill('SIGKILL');
    process.once('exit', onExit);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      process.off('exit', onExit);
      const m = /^RESULT (.*)$/m.exec(out);
      if (code === 0 && m) resolve(JSON.parse(m[1]!) as LoadResult);
      else reject(new Error(`load generator (${config.scenario}) failed (${code ?? signal}):\n${out.slice(-3000)}`));
    });
  });
}

async function sumCpuSecondsOf(pids: number[]): Promise<number | null> {
  const each = await Promise.all(pids.map((pid) => cpuSecondsOf(pid)));
  return each.some((s) => s === null) ? null : each.reduce<number>((a, b) => a + b!, 0);
}

/** The API's requests, apart from the bench's own scrapes of /metrics. */
const API_REQUESTS = 'api requests';

/** Every coordinator's metrics, summed. */
async function scrapeAll(coordinators: Child[]): Promise<Map<string, number>> {
  const sum = new Map<string, number>();
  for (const m of await Promise.all(coordinators.map((c) => scrape(c.ready)))) for (const [k, n] of m) sum.set(k, (sum.get(k) ?? 0) + n);
  return sum;
}

/** Every coordinator's log counts, summed. */
async function logCountsOf(coordinators: Child[]): Promise<LogCounts> {
  const sum: LogCounts = { writes: 0, statements: {} };
  for (const c of await Promise.all(coordinators.map((x) => logCounts(x)))) {
    sum.writes += c.writes;
    for (const [kind, n] of Object.entries(c.statements)) sum.statements[kind] = (sum.statements[kind] ?? 0) + n;
  }
  return sum;
}

/** Each metric summed over its labels, and the `/v1/…` routes' requests as API_REQUESTS. */
async function scrape(url: string): Promise<Map<string, number>> {
  const res = await request(`${url}/metrics`);
  const text = await res.body.text();
  const m = new Map<string, number>();
  const add = (key: string, n: number) => m.set(key, (m.get(key) ?? 0) + n);
  for (const line of text.split('\n')) {
    const hit = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (!hit) continue;
    add(hit[1]!, Number(hit[3]));
    if (hit[1] === 'dtx_http_requests_total' && hit[2]?.includes('route="/v1/')) add(API_REQUESTS, Number(hit[3]));
  }
  return m;
}
