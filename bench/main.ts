// `npm run bench`: what DTX costs, next to the same work done without it.
// Starts every process it needs on 127.0.0.1, measures each scenario with one
// load generator process, tears everything down (also on failure), prints a
// table and, on the last line, the same figures as one JSON object.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import type { LoadConfig, LoadResult } from './load.js';
import { databaseName, MysqlAdmin, preloadLog, sweepQuery, type MysqlCounters } from './mysql.js';
import { formatSummary, summarise } from './profile-summary.js';
import { cpuSecondsOf, memoryOf, mysqlServerPid, REPO_ROOT, startProcess, stopAll, type Child } from './processes.js';

const ALL = ['bare', 'relay', 'driven', 'initiator', 'bank-bare', 'bank'] as const;
type ScenarioName = (typeof ALL)[number];
const BASELINE: Partial<Record<ScenarioName, ScenarioName>> = { relay: 'bare', driven: 'bare', initiator: 'bare', bank: 'bank-bare' };
const NEEDS_COORDINATOR = new Set<ScenarioName>(['driven', 'initiator', 'bank']);
const BANK_ACCOUNTS = 1000;

interface Options {
  durationS: number;
  warmupS: number;
  concurrency: number;
  scenarios: ScenarioName[];
  preload: number;
  rounds: number;
  profile: boolean;
  keepDb: boolean;
  databaseUrl: string;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '15' },
      warmup: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '64' },
      scenario: { type: 'string' },
      preload: { type: 'string', default: '0' },
      rounds: { type: 'string', default: '1' },
      profile: { type: 'boolean', default: false },
      'keep-db': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(`usage: npm run bench -- [--duration S=15] [--warmup S=3] [--concurrency N=64] [--scenario ${ALL.join(',')}]
                        [--preload N] [--rounds N=1] [--profile] [--keep-db]
  DTX_BENCH_DATABASE_URL  MySQL for the coordinator log (default mysql://root@127.0.0.1:3306/dtx_bench)`);
    process.exit(0);
  }
  const num = (name: string, v: string, min: number, max: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number ${min}–${max}, got ${v}`);
    return n;
  };
  const asked = values.scenario ? values.scenario.split(',').map((s) => s.trim()) : [...ALL];
  for (const s of asked) if (!ALL.includes(s as ScenarioName)) throw new Error(`unknown scenario "${s}"; known: ${ALL.join(', ')}`);
  // Every DTX figure is a ratio to its baseline measured in the same run (LESSONS.md: DTM #484).
  const wanted = new Set(asked as ScenarioName[]);
  for (const s of [...wanted]) if (BASELINE[s]) wanted.add(BASELINE[s]!);
  return {
    durationS: num('duration', values.duration!, 1, 3600),
    warmupS: num('warmup', values.warmup!, 0, 600),
    concurrency: Math.floor(num('concurrency', values.concurrency!, 1, 4096)),
    scenarios: ALL.filter((s) => wanted.has(s)),
    preload: Math.floor(num('preload', values.preload!, 0, 100_000_000)),
    rounds: Math.floor(num('rounds', values.rounds!, 1, 20)),
    profile: values.profile!,
    keepDb: values['keep-db']!,
    databaseUrl: process.env.DTX_BENCH_DATABASE_URL ?? 'mysql://root@127.0.0.1:3306/dtx_bench',
  };
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
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

async function scrape(url: string): Promise<Map<string, number>> {
  const res = await request(`${url}/metrics`);
  const text = await res.body.text();
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    const hit = /^([a-z_]+)(?:\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (hit) m.set(hit[1]!, (m.get(hit[1]!) ?? 0) + Number(hit[2]));
  }
  return m;
}

interface Row {
  scenario: ScenarioName;
  round: number;
  load: LoadResult;
  ratio: number | null;
  /** MySQL COMMITs (server-wide) per transaction completed during the scenario. */
  mysqlCommitsPerTx: number | null;
  /** Commits the coordinator's group-commit writer made, per transaction. */
  logCommitsPerTx: number | null;
  coordinatorRssMb: number | null;
  /** V8 heap in use after the scenario (from /metrics): tells a leak from a heap that grew once. */
  coordinatorHeapMb: number | null;
  /** CPU milliseconds per transaction: the coordinator process, and the MySQL server (whole server, when it runs here). */
  coordinatorCpuMsPerTx: number | null;
  mysqlCpuMsPerTx: number | null;
  /** The same for the participants together: the two no-op participants, or the two wallets for bank-bare and bank. */
  participantsCpuMsPerTx: number | null;
  generatorCpuMsPerTx: number | null;
}

const f = (n: number | null | undefined, d = 1) => (n === null || n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(d));

async function main(): Promise<number> {
  const o = options();
  const log = (s: string) => console.log(s);
  const startedAt = new Date();
  const scenarios = o.scenarios;

  const admin = await MysqlAdmin.connect(o.databaseUrl);
  const logDb = databaseName(o.databaseUrl);
  const walletDbs = [`${logDb}_wallet_a`, `${logDb}_wallet_b`];
  let coordinator: Child | null = null;
  const profileDir = join(REPO_ROOT, 'bench/.profiles', startedAt.toISOString().replace(/[:.]/g, '-'));
  const rows: Row[] = [];
  try {
    const flush = await admin.variable('innodb_flush_log_at_trx_commit');
    const version = String(((await admin.query('SELECT VERSION() AS v')) as { v: string }[])[0]?.v);
    log(`DTX bench ${startedAt.toISOString()}: ${scenarios.join(', ')}; ${o.durationS} s each after ${o.warmupS} s warmup, concurrency ${o.concurrency}${o.preload ? `, log preloaded with ${o.preload} transactions` : ''}`);
    log(`MySQL ${version} at ${new URL(o.databaseUrl).host}, innodb_flush_log_at_trx_commit=${flush}${flush === '1' ? ' (durable)' : ' (NOT durable: figures are not comparable)'}; node ${process.version}`);

    await admin.recreate(logDb);
    const mysqlPid = await mysqlServerPid();
    const participants = await Promise.all(
      ['a', 'b'].map((n) => startProcess(`participant ${n}`, ['--import', 'tsx', 'bench/noop-participant.ts'], {}, /listening on (http:\/\/\S+)/)),
    );
    const participantUrls = participants.map((p) => p.ready);

    if (scenarios.some((s) => NEEDS_COORDINATOR.has(s))) {
      if (o.profile) mkdirSync(profileDir, { recursive: true });
      coordinator = await startProcess(
        'coordinator',
        [...(o.profile ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []), '--import', 'tsx', 'coordinator/src/cli/main.ts', 'serve'],
        { DTX_DATABASE_URL: o.databaseUrl, DTX_HOST: '127.0.0.1', DTX_PORT: '0' },
        /listening on (http:\/\/\S+)/,
      );
      log(`coordinator ${coordinator.ready} (pid ${coordinator.proc.pid}), participants ${participantUrls.join(' ')}`);
      if (o.preload > 0) {
        const t0 = Date.now();
        let shown = 0;
        await preloadLog(o.databaseUrl, o.preload, (done) => {
          if (done - shown >= 200_000) {
            shown = done;
            log(`  preload: ${done} / ${o.preload}`);
          }
        });
        log(`preloaded ${o.preload} finished transactions (${o.preload * 2} branches) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        await admin.query(`ANALYZE TABLE \`${logDb}\`.dtx_global_tx, \`${logDb}\`.dtx_branch`);
      }
      const sweep = sweepQuery(logDb);
      const plan = (await admin.query(`EXPLAIN ${sweep.sql}`, sweep.bindings)) as Record<string, unknown>[];
      log(`recovery sweep plan: ${plan.map((p) => `table=${p.table} type=${p.type} key=${p.key} rows=${p.rows} extra=${p.Extra}`).join(' | ')}`);
    }

    const relay = scenarios.includes('relay')
      ? await startProcess('relay', ['--import', 'tsx', 'bench/relay.ts'], {}, /listening on (http:\/\/\S+)/)
      : null;

    let bank: { servers: Child[]; urls: string[] } | null = null;
    if (scenarios.some((s) => s.startsWith('bank'))) {
      for (const db of walletDbs) await admin.recreate(db);
    }

    for (let round = 1; round <= o.rounds; round++) {
      for (const scenario of scenarios) {
        if (scenario.startsWith('bank')) {
          // bank-bare and bank use different wallet servers on the same two databases
          if (bank) await Promise.all(bank.servers.map((s) => s.stop()));
          const { startWallets } = await import('./scenario-bank.js');
          bank = await startWallets(scenario, walletDbs.map((d) => withDatabase(o.databaseUrl, d)), BANK_ACCOUNTS);
        }
        const config: LoadConfig = {
          scenario,
          participants: participantUrls,
          coordinatorUrl: scenario === 'relay' ? relay!.ready : coordinator?.ready,
          wallets: bank?.urls,
          accounts: BANK_ACCOUNTS,
          concurrency: o.concurrency,
          warmupMs: o.warmupS * 1000,
          durationMs: o.durationS * 1000,
        };
        const before: MysqlCounters = await admin.counters();
        const metricsBefore = coordinator && NEEDS_COORDINATOR.has(scenario) ? await scrape(coordinator.ready) : null;
        const cpu = async () => ({
          // the process in the coordinator's place: the relay stands in for it in `relay`
          coordinator: scenario === 'relay' ? await cpuSecondsOf(relay!.proc.pid!) : coordinator && NEEDS_COORDINATOR.has(scenario) ? await cpuSecondsOf(coordinator.proc.pid!) : null,
          mysql: mysqlPid ? await cpuSecondsOf(mysqlPid) : null,
          participants: await sumCpuSecondsOf((scenario.startsWith('bank') ? bank!.servers : participants).map((c) => c.proc.pid!)),
        });
        const cpuBefore = await cpu();
        const load = await runLoad(config, (o.warmupS + o.durationS) * 1000 + 120_000);
        const cpuAfter = await cpu();
        const perTx = (a: number | null, b: number | null) => (a === null || b === null || !load.completed ? null : ((b - a) * 1000) / load.completed);
        const after: MysqlCounters = await admin.counters();
        const metricsAfter = metricsBefore ? await scrape(coordinator!.ready) : null;
        const txs = load.completed;
        const isDtx = NEEDS_COORDINATOR.has(scenario);
        const mem = isDtx && coordinator ? await memoryOf(coordinator.proc.pid!) : null;
        rows.push({
          scenario,
          round,
          load,
          ratio: null,
          mysqlCommitsPerTx: txs ? (after.comCommit - before.comCommit) / txs : null,
          logCommitsPerTx: metricsBefore && metricsAfter && txs ? (metricsAfter.get('dtx_log_commits')! - metricsBefore.get('dtx_log_commits')!) / txs : null,
          coordinatorRssMb: mem?.rssMb ?? null,
          coordinatorHeapMb: metricsAfter?.has('dtx_process_nodejs_heap_size_used_bytes') ? metricsAfter.get('dtx_process_nodejs_heap_size_used_bytes')! / 2 ** 20 : null,
          coordinatorCpuMsPerTx: perTx(cpuBefore.coordinator, cpuAfter.coordinator),
          mysqlCpuMsPerTx: perTx(cpuBefore.mysql, cpuAfter.mysql),
          participantsCpuMsPerTx: perTx(cpuBefore.participants, cpuAfter.participants),
          generatorCpuMsPerTx: load.completed ? load.cpuMs / load.completed : null,
        });
        log(
          `  ${scenario.padEnd(10)} round ${round}: ${f(load.tps, 0)} tx/s, p50 ${f(load.p50Ms, 2)} ms, p99 ${f(load.p99Ms, 2)} ms, ${load.errors} errors${load.firstError ? ` (first: ${load.firstError})` : ''}`,
        );
        if (scenario.startsWith('bank')) {
          const { checkMoney } = await import('./scenario-bank.js');
          log(`  ${scenario.padEnd(10)} money: ${await checkMoney(admin, walletDbs, scenario === 'bank' ? logDb : null, BANK_ACCOUNTS, load.completed, load.errors)}`);
        }
      }
    }
    if (bank) await Promise.all(bank.servers.map((s) => s.stop()));
  } finally {
    const coordinatorPid = coordinator?.proc.pid;
    const peak = coordinatorPid ? await memoryOf(coordinatorPid) : null;
    if (peak) (globalThis as { peakRssMb?: number }).peakRssMb = peak.peakRssMb;
    await stopAll();
    if (!o.keepDb) {
      await admin.drop(logDb).catch(() => {});
      for (const db of walletDbs) await admin.drop(db).catch(() => {});
    }
    await admin.close();
  }

  // One figure per scenario: the median round by throughput.
  const pick = new Map<ScenarioName, Row>();
  for (const s of ALL) {
    const rs = rows.filter((r) => r.scenario === s).sort((a, b) => a.load.tps - b.load.tps);
    if (rs.length) pick.set(s, rs[Math.floor((rs.length - 1) / 2)]!);
  }
  for (const [s, r] of pick) {
    const base = BASELINE[s] ? pick.get(BASELINE[s]!) : undefined;
    r.ratio = base && base.load.tps > 0 ? r.load.tps / base.load.tps : null;
  }
  const peakRssMb = (globalThis as { peakRssMb?: number }).peakRssMb ?? null;

  log('');
  log('scenario     round      tx/s   p50 ms   p99 ms   ratio  errors  MySQL commits/tx  log commits/tx  coord RSS MB  heap MB  coord CPU ms/tx  MySQL CPU ms/tx  participants CPU ms/tx  generator CPU ms/tx');
  for (const r of rows) {
    const shown = pick.get(r.scenario) === r ? r.ratio : null;
    log(
      `${r.scenario.padEnd(12)} ${String(r.round).padStart(5)} ${f(r.load.tps, 0).padStart(9)} ${f(r.load.p50Ms, 2).padStart(8)} ${f(r.load.p99Ms, 2).padStart(8)} ${(shown === null ? (BASELINE[r.scenario] ? '' : 'base') : f(shown, 2)).padStart(7)} ${String(r.load.errors).padStart(7)} ${f(r.mysqlCommitsPerTx, 2).padStart(17)} ${f(r.logCommitsPerTx, 2).padStart(15)} ${f(r.coordinatorRssMb, 0).padStart(13)} ${f(r.coordinatorHeapMb, 0).padStart(8)} ${f(r.coordinatorCpuMsPerTx, 2).padStart(16)} ${f(r.mysqlCpuMsPerTx, 2).padStart(16)} ${f(r.participantsCpuMsPerTx, 2).padStart(23)} ${f(r.generatorCpuMsPerTx, 2).padStart(20)}`,
    );
  }
  log('');
  log('CPU ms/tx: user+system CPU each process used during the scenario (warmup included) / transactions completed; steadier than tx/s on a shared machine. In relay, the coordinator columns are the relay\'s.');
  log('MySQL commits/tx: server-wide Com_commit (COMMIT statements) over the scenario / transactions completed; for bank it includes the wallets\' own commits.');
  log(`coordinator peak RSS (VmHWM): ${f(peakRssMb, 0)} MB`);
  if (o.profile) {
    const files = existsSync(profileDir) ? readdirSync(profileDir).filter((x) => x.endsWith('.cpuprofile')) : [];
    // one profile per thread: the main thread's is the largest (tsx's loader thread mostly idles)
    const main = files.map((x) => join(profileDir, x)).sort((a, b) => statSync(b).size - statSync(a).size)[0];
    if (main) log(`\n${main}\n${formatSummary(summarise(JSON.parse(readFileSync(main, 'utf8')), 30))}`);
    else log('no CPU profile was written');
  }

  const json = {
    scenarios: Object.fromEntries(
      [...pick].map(([s, r]) => [s, { tps: round(r.load.tps, 1), p50Ms: round(r.load.p50Ms, 2), p99Ms: round(r.load.p99Ms, 2), ...(BASELINE[s] ? { ratio: r.ratio === null ? null : round(r.ratio, 3) } : {}) }]),
    ),
    mysqlCommitsPerTx: pick.get('driven')?.mysqlCommitsPerTx == null ? null : round(pick.get('driven')!.mysqlCommitsPerTx!, 3),
    coordinatorPeakRssMb: peakRssMb === null ? null : round(peakRssMb, 1),
  };
  console.log(JSON.stringify(json));
  return rows.some((r) => r.load.errors > 0) ? 1 : 0;
}

const round = (n: number, d: number) => Math.round(n * 10 ** d) / 10 ** d;

let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    if (stopping) return;
    stopping = true;
    console.error(`bench: ${sig}: stopping its processes`);
    void stopAll().finally(() => process.exit(130));
  });
}

main().then(
  (code) => process.exit(code),
  async (err) => {
    console.error(`bench failed: ${err instanceof Error ? err.stack : String(err)}`);
    await stopAll();
    process.exit(1);
  },
);
