// `npm run bench`: what DTX costs, next to the same work done without it.
// Starts every process it needs on 127.0.0.1, measures each scenario with one
// load generator process, tears everything down (also on failure), prints a
// table and, on the last line, the same figures as one JSON object.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DrainResult } from './drain-summary.js';
import { measureScenario, type Row, type Stage } from './measure.js';
import { databaseName, MysqlAdmin } from './mysql.js';
import { BANK_ACCOUNTS, NEEDS_COORDINATOR, options, OWN_TOPOLOGY, type Options } from './options.js';
import { PostgresAdmin } from './postgres.js';
import { SqliteAdmin } from './sqlite.js';
import { memoryOf, REPO_ROOT, startProcess, stopAll, type Child } from './processes.js';
import { printReport, rowLine, wsrepLine } from './report.js';
import { startCoordinatorProcess } from './coordinator-process.js';
import type { GaleraAdmin } from './galera.js';
import { withDatabase, type StoreAdmin } from './store.js';
import { startTopology } from './topology.js';

const log = (s: string) => console.log(s);

async function main(): Promise<number> {
  const o = options();
  const startedAt = new Date();
  const admin = await connectStore(o);
  const logDb = o.store === 'sqlite' ? SqliteAdmin.fileUrl(o.databaseUrl).name : databaseName(o.databaseUrl);
  const walletDbs = [`${logDb}_wallet_a`, `${logDb}_wallet_b`];
  const profileDir = o.profile ? join(REPO_ROOT, 'bench/.profiles', startedAt.toISOString().replace(/[:.]/g, '-')) : null;
  const rows: Row[] = [];
  let coordinator: Child | null = null;
  let peakRssMb: number | null = null;
  let drain: DrainResult | null = null;
  let galera: Promise<GaleraAdmin> | null = null;
  try {
    log(`DTX bench ${startedAt.toISOString()}: ${o.scenarios.join(', ')}; ${o.durationS} s each after ${o.warmupS} s warmup, concurrency ${o.concurrency}${o.preload ? `, log preloaded with ${o.preload} transactions` : ''}`);
    log(`log store: ${await admin.describe()}; node ${process.version}`);

    await admin.recreate(logDb);
    const participants = await Promise.all(
      ['a', 'b'].map((n) => startProcess(`participant ${n}`, ['--import', 'tsx', 'bench/noop-participant.ts'], {}, /listening on (http:\/\/\S+)/)),
    );
    if (o.scenarios.some((s) => NEEDS_COORDINATOR.has(s))) coordinator = await startCoordinator(o, admin, logDb, profileDir, participants);
    const relay = o.scenarios.includes('relay') ? await startProcess('relay', ['--import', 'tsx', 'bench/relay.ts'], {}, /listening on (http:\/\/\S+)/) : null;
    if (o.scenarios.some((s) => s.startsWith('bank'))) for (const db of walletDbs) await admin.recreate(db);

    const stage: Stage = { admin, coordinators: coordinator ? [coordinator] : [], relay, participants, bank: null };
    const topologyHost = {
      coordinator: coordinator!,
      databaseUrl: o.databaseUrl,
      admin,
      galera: () => (galera ??= import('./galera.js').then(async ({ GaleraAdmin }) => {
        const g = await GaleraAdmin.start();
        log(`galera log store: ${await g.describe()}`);
        return g;
      })),
    };
    for (let round = 1; round <= o.rounds; round++) {
      for (const scenario of o.scenarios) {
        if (scenario === 'drain') {
          // its own database and processes, once: recovery catching up on a backlog (bench/scenario-drain.ts)
          const { runDrain } = await import('./scenario-drain.js');
          if (round === 1) drain = await runDrain({ admin, store: o.store, databaseUrl: o.databaseUrl, dbName: `${logDb}_drain`, participants: participants.map((p) => p.ready), count: o.drainCount, redisUrl: o.redisUrl, keepDb: o.keepDb, log });
          continue;
        }
        if (scenario.startsWith('bank')) {
          // bank-bare, bank, bank-xa and bank-fmt use different wallet servers on the same two databases
          if (stage.bank) await Promise.all(stage.bank.servers.map((s) => s.stop()));
          const { startWallets } = await import('./scenario-bank.js');
          stage.bank = await startWallets(scenario, walletDbs.map((d) => withDatabase(o.databaseUrl, d)), BANK_ACCOUNTS);
        }
        // driven-2c and the galera scenarios: coordinators of their own, for this scenario alone
        const topology = OWN_TOPOLOGY.has(scenario) ? await startTopology(scenario, topologyHost) : null;
        const serving = topology?.coordinators ?? stage.coordinators;
        const config = {
          scenario,
          participants: participants.map((p) => p.ready),
          coordinatorUrls: scenario === 'relay' ? [relay!.ready] : serving.map((c) => c.ready),
          wallets: stage.bank?.urls,
          accounts: BANK_ACCOUNTS,
          concurrency: o.concurrency,
          warmupMs: o.warmupS * 1000,
          durationMs: o.durationS * 1000,
        };
        const wsrepBefore = await topology?.wsrep?.();
        const row = await measureScenario(topology ? { ...stage, admin: topology.admin, coordinators: serving } : stage, config, round, (o.warmupS + o.durationS) * 1000 + 120_000);
        rows.push(row);
        log(rowLine(row));
        if (wsrepBefore) log(wsrepLine(scenario, wsrepBefore, await topology!.wsrep!(), row.load.completed));
        await topology?.stop();
        if (scenario.startsWith('bank')) {
          const { checkMoney } = await import('./scenario-bank.js');
          log(`  ${scenario.padEnd(10)} money: ${await checkMoney(admin as MysqlAdmin, walletDbs, NEEDS_COORDINATOR.has(scenario) ? logDb : null, BANK_ACCOUNTS, row.load.completed, row.load.errors)}`);
        }
      }
    }
    if (stage.bank) await Promise.all(stage.bank.servers.map((s) => s.stop()));
  } finally {
    const coordinatorPid = coordinator?.proc.pid;
    peakRssMb = coordinatorPid ? ((await memoryOf(coordinatorPid))?.peakRssMb ?? null) : null;
    await stopAll();
    if (galera) await (await galera.catch(() => null))?.close();
    if (!o.keepDb) {
      await admin.drop(logDb).catch(() => {});
      await admin.drop(`${logDb}_drain`).catch(() => {});
      for (const db of walletDbs) await admin.drop(db).catch(() => {});
    }
    await admin.close();
  }
  printReport({ rows, peakRssMb, profileDir, store: o.store, drain }, log);
  return rows.some((r) => r.load.errors > 0) ? 1 : 0;
}

function connectStore(o: Options): Promise<StoreAdmin> {
  if (o.store === 'mysql') return MysqlAdmin.connect(o.databaseUrl);
  if (o.store === 'postgres') return PostgresAdmin.connect(o.databaseUrl);
  return Promise.resolve(new SqliteAdmin(SqliteAdmin.fileUrl(o.databaseUrl).dir));
}

/** The coordinator on the bench's log, the log preloaded if asked, and the recovery sweep's plan shown. */
async function startCoordinator(o: Options, admin: StoreAdmin, logDb: string, profileDir: string | null, participants: Child[]): Promise<Child> {
  if (profileDir !== null) mkdirSync(profileDir, { recursive: true });
  const coordinator = await startCoordinatorProcess('coordinator', o.databaseUrl, profileDir !== null ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []);
  log(`coordinator ${coordinator.ready} (pid ${coordinator.proc.pid}), participants ${participants.map((p) => p.ready).join(' ')}`);
  if (o.preload > 0) {
    const t0 = Date.now();
    let shown = 0;
    await admin.preload(o.databaseUrl, o.preload, (done) => {
      if (done - shown >= 200_000) {
        shown = done;
        log(`  preload: ${done} / ${o.preload}`);
      }
    });
    log(`preloaded ${o.preload} finished transactions (${o.preload * 2} branches) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  log(`recovery sweep plan: ${await admin.sweepPlan(logDb)}`);
  return coordinator;
}

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
