import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { Child } from './child.js';
import { TIMINGS, type Cluster } from './cluster.js';

export const FAULTS = [
  'kill-mariadb', 'freeze-mariadb', 'kill-redis', 'kill-coordinator', 'kill-worker', 'kill-wallet', 'flushall',
  'proxy-latency', 'proxy-hang', 'proxy-reset', 'proxy-partition',
] as const;
export type Fault = (typeof FAULTS)[number];

/** An API write while the log's database is down must answer 503 STORE_UNAVAILABLE with Retry-After in this time. */
export const STORE_OUTAGE_ANSWER_MS = 10_000;
/** …and the coordinator must take writes again this soon after the database is back. */
const RECOVERY_MS = 30_000;

export interface FaultLog {
  injected: Record<Fault, number>;
  /** What a begin answered while MariaDB was down: status, code, Retry-After, time. */
  outageAnswers: { status: number | null; code?: string; retryAfter?: string; ms: number }[];
  violations: string[];
}

export function newFaultLog(): FaultLog {
  return { injected: Object.fromEntries(FAULTS.map((f) => [f, 0])) as Record<Fault, number>, outageAnswers: [], violations: [] };
}

/** Runs faults one after another, each type in turn (shuffled per round), until `untilMs`. */
export async function runFaults(c: Cluster, log: FaultLog, untilMs: number): Promise<void> {
  let probe = 0;
  while (Date.now() < untilMs) {
    for (const fault of shuffle([...FAULTS])) {
      if (Date.now() >= untilMs) return;
      await sleep(300 + Math.random() * 700);
      log.injected[fault]++;
      await inject(fault, c, log, () => `probe-${Date.now()}-${probe++}`);
    }
  }
}

async function inject(fault: Fault, c: Cluster, log: FaultLog, probeXid: () => string): Promise<void> {
  const bounce = async (child: Child, downMs: number) => {
    await child.kill();
    await sleep(downMs);
    await child.start(120_000);
  };
  switch (fault) {
    case 'kill-mariadb':
      return storeOutage(c, log, probeXid, () => c.mariadb.kill(), () => c.mariadb.start(120_000));
    case 'freeze-mariadb': // SIGSTOP: the server keeps its connections open and answers nothing
      return storeOutage(c, log, probeXid, async () => c.mariadb.signal('SIGSTOP'), async () => c.mariadb.signal('SIGCONT'));
    case 'kill-redis':
      return bounce(c.redis, 1500);
    case 'kill-coordinator':
      return bounce(pick(c.coordinators), 1000);
    case 'kill-worker':
      return bounce(pick(c.workers), 1000);
    case 'kill-wallet':
      return bounce(pick([c.wallets.a.child, c.wallets.b.child]), 1500);
    case 'flushall':
      return c.flushRedis();
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
  await Promise.all(c.coordinatorUrls.map((url) => recovers(url, log, probeXid)));
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

async function recovers(url: string, log: FaultLog, probeXid: () => string): Promise<void> {
  const until = Date.now() + RECOVERY_MS;
  while (Date.now() < until) {
    if ((await begin(url, probeXid())).status === 201) return;
    await sleep(500);
  }
  log.violations.push(`${url} took no write within ${RECOVERY_MS} ms after MariaDB came back`);
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
