import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { bounce } from './child.js';
import { TIMINGS, type Cluster } from './cluster.js';
import type { StoreFault } from './topology.js';

/** The faults of every topology; each topology adds its stores' own (Topology.faults). */
export const PROCESS_FAULTS = ['kill-coordinator', 'kill-worker', 'kill-wallet', 'proxy-latency', 'proxy-hang', 'proxy-reset', 'proxy-partition'] as const;

/** An API write while the log's database is down must answer 503 STORE_UNAVAILABLE with Retry-After in this time. */
export const STORE_OUTAGE_ANSWER_MS = 10_000;
/** …and the coordinator must take writes again this soon after the database is back (or, for a failover, after the part died). */
const RECOVERY_MS = 30_000;

export interface FaultLog {
  /** By fault name, the store faults of the topology first. */
  injected: Record<string, number>;
  /** What a begin answered while the log's database was down: status, code, Retry-After, time. */
  outageAnswers: { status: number | null; code?: string; retryAfter?: string; ms: number }[];
  violations: string[];
}

export function newFaultLog(c: Cluster): FaultLog {
  return { injected: Object.fromEntries(faultNames(c).map((f) => [f, 0])), outageAnswers: [], violations: [] };
}

const faultNames = (c: Cluster) => [...Object.keys(c.topology.faults), ...PROCESS_FAULTS];

/**
 * Runs faults one after another, each type in turn (shuffled per round), until `untilMs`, or
 * with `rounds` that many whole rounds, however long they take.
 */
export async function runFaults(c: Cluster, log: FaultLog, { untilMs = Infinity, rounds = Infinity }: { untilMs?: number; rounds?: number }): Promise<void> {
  let probe = 0;
  for (let round = 0; round < rounds && Date.now() < untilMs; round++) {
    for (const fault of shuffle(faultNames(c))) {
      if (Date.now() >= untilMs) return;
      await sleep(300 + Math.random() * 700);
      log.injected[fault] = (log.injected[fault] ?? 0) + 1;
      await inject(fault, c, log, () => `probe-${Date.now()}-${probe++}`);
    }
  }
}

async function inject(fault: string, c: Cluster, log: FaultLog, probeXid: () => string): Promise<void> {
  const store = c.topology.faults[fault];
  if (store) return injectStoreFault(store, c, log, probeXid);
  switch (fault as (typeof PROCESS_FAULTS)[number]) {
    case 'kill-coordinator':
      return bounce(pick(c.coordinators), 1000);
    case 'kill-worker':
      return bounce(pick(c.workers), 1000);
    case 'kill-wallet':
      return bounce(pick([c.wallets.a.child, c.wallets.b.child]), 1500);
    case 'proxy-latency':
      return window(c, { kind: 'latency', ms: 200 + Math.floor(Math.random() * 400) }, 3000);
    case 'proxy-hang':
      return window(c, { kind: 'hang' }, TIMINGS.callTimeoutMs + 1500);
    case 'proxy-reset':
      return window(c, { kind: 'reset', probability: 0.3 }, 2500);
    case 'proxy-partition':
      return window(c, { kind: 'partition' }, 2500);
  }
}

async function injectStoreFault(fault: StoreFault, c: Cluster, log: FaultLog, probeXid: () => string): Promise<void> {
  if (fault.kind === 'action') return fault.run();
  if (fault.kind === 'outage') return storeOutage(c, log, probeXid, fault.down, fault.up);
  // a failover: the standby takes over, so writes go on while the part is down and after it is back
  await fault.down();
  await Promise.all(c.coordinatorUrls.map((url) => recovers(url, log, probeXid, 'with a failed-over part down')));
  await fault.up();
  await Promise.all(c.coordinatorUrls.map((url) => recovers(url, log, probeXid, 'after the failed-over part came back')));
}

/** Takes the log's database away, probes every coordinator's writes meanwhile, brings it back, and waits for each to take writes again. */
async function storeOutage(c: Cluster, log: FaultLog, probeXid: () => string, down: () => Promise<void>, up: () => Promise<void>): Promise<void> {
  await down();
  await sleep(300);
  await Promise.all(c.coordinatorUrls.map(async (url, i) => {
    if (!c.coordinators[i]!.alive) return;
    // one at a time, then many at once: none may wait on the pool for a connection that cannot come
    log.outageAnswers.push(await begin(url, probeXid()));
    log.outageAnswers.push(...(await Promise.all(Array.from({ length: 16 }, () => begin(url, probeXid())))));
  }));
  await up();
  await Promise.all(c.coordinatorUrls.map((url) => recovers(url, log, probeXid, 'after the log\'s database came back')));
}

async function window(c: Cluster, mode: Parameters<Cluster['proxy']['set']>[0], ms: number): Promise<void> {
  c.proxy.set(mode);
  await sleep(ms);
  c.proxy.set({ kind: 'pass' });
}

/** One begin (a write to the log), timed; a hung request ends at twice the bound and counts as no answer. */
async function begin(url: string, xid: string): Promise<FaultLog['outageAnswers'][number]> {
  const started = performance.now();
  try {
    const res = await request(`${url}/v1/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ xid, timeoutMs: 1000 }),
      headersTimeout: 2 * STORE_OUTAGE_ANSWER_MS,
      bodyTimeout: 2 * STORE_OUTAGE_ANSWER_MS,
    });
    const body = (await res.body.json().catch(() => undefined)) as { error?: { code?: string } } | undefined;
    const retryAfter = res.headers['retry-after'];
    return { status: res.statusCode, ms: performance.now() - started, ...(body?.error?.code ? { code: body.error.code } : {}), ...(typeof retryAfter === 'string' ? { retryAfter } : {}) };
  } catch {
    return { status: null, ms: performance.now() - started };
  }
}

async function recovers(url: string, log: FaultLog, probeXid: () => string, when: string): Promise<void> {
  const until = Date.now() + RECOVERY_MS;
  while (Date.now() < until) {
    if ((await begin(url, probeXid())).status === 201) return;
    await sleep(500);
  }
  log.violations.push(`${url} took no write within ${RECOVERY_MS} ms ${when}`);
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
