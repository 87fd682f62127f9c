import { knexFromUrl } from '@dtx/participant-sdk';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnDtx, type DtxProcess } from '../support/coordinator-process.js';
import { api } from '../support/http.js';
import { startParticipant, type TestParticipant } from '../support/participant.js';
import { freshDatabase, type FreshDatabase } from '../support/services.js';
import { FuzzGen, seededRandom, type FuzzCase } from './support/fuzz-cases.js';

/**
 * Hostile input over real HTTP against a real `dtx serve` on SQLite. Reproduce a run with
 * DTX_FUZZ_SEED=<the printed seed>.
 */
const SEED = process.env.DTX_FUZZ_SEED ? Number(process.env.DTX_FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const OPEN_REQUESTS = 8_000;
const TOKEN_REQUESTS = 2_500;
const CONCURRENCY = 16;
const TOKEN = 'fuzz-token-0123456789';
/** What 10,000 refused requests may add to the coordinator's resident memory. */
const RSS_GROWTH_BOUND = 150 * 1024 * 1024;

interface Failure {
  c: FuzzCase;
  why: string;
}

const agent = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 10_000, headersTimeout: 10_000, bodyTimeout: 10_000 });

async function send(base: string, c: FuzzCase): Promise<string | null> {
  let res;
  try {
    res = await request(`${base}${c.path}`, { method: c.method as 'GET', headers: c.headers, body: c.body, dispatcher: agent });
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (c.mayReset && /ECONNRESET|UND_ERR_SOCKET|EPIPE|UND_ERR_CLOSED/.test(code)) return null;
    return `no answer: ${code} ${(err as Error).message}`;
  }
  const text = await res.body.text();
  if (res.statusCode < 400 || res.statusCode > 499) return `HTTP ${res.statusCode}: ${text.slice(0, 300)}`;
  let body: { error?: { code?: unknown; message?: unknown } };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return `HTTP ${res.statusCode} not JSON: ${text.slice(0, 200)}`;
  }
  if (typeof body.error?.code !== 'string' || typeof body.error.message !== 'string') return `HTTP ${res.statusCode} not the error shape: ${text.slice(0, 200)}`;
  return null;
}

async function run(base: string, cases: FuzzCase[]): Promise<Failure[]> {
  const failures: Failure[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < cases.length) {
        const c = cases[next++]!;
        const why = await send(base, c);
        if (why) failures.push({ c, why });
      }
    }),
  );
  return failures;
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

async function rowCounts(url: string): Promise<Record<string, number>> {
  const knex = knexFromUrl(url);
  try {
    const out: Record<string, number> = {};
    for (const table of ['dtx_global_tx', 'dtx_branch']) out[table] = Number(((await knex(table).count({ n: '*' })) as { n: number }[])[0]!.n);
    return out;
  } finally {
    await knex.destroy();
  }
}

function report(failures: Failure[]): string {
  return failures.slice(0, 10).map((f) => `${f.c.kind} ${f.c.method} ${f.c.path.slice(0, 120)} ${String(f.c.body ?? '').slice(0, 160)} → ${f.why}`).join('\n');
}

describe(`API fuzz (seed ${SEED}; DTX_FUZZ_SEED=${SEED} reproduces it)`, () => {
  let db: FreshDatabase;
  let open: DtxProcess;
  let guarded: DtxProcess;
  let p: TestParticipant;
  const live: string[] = [];

  beforeAll(async () => {
    console.log(`[api fuzz] seed ${SEED}`);
    db = await freshDatabase('sqlite', 'fuzz');
    const env = { DTX_DATABASE_URL: db.url, DTX_RETRY_BASE_MS: '20', DTX_RETRY_MAX_MS: '100', DTX_CALL_TIMEOUT_MS: '1000' };
    open = await spawnDtx(['serve'], env);
    guarded = await spawnDtx(['serve'], { ...env, DTX_API_TOKENS: `other-token,${TOKEN}` });
    p = await startParticipant();
    for (let i = 0; i < 5; i++) {
      const res = await api(open.url, 'POST', '/v1/transactions', { timeoutMs: 86_400_000 });
      expect(res.status).toBe(201);
      live.push(res.body.xid as string);
    }
  }, 60_000);

  afterAll(async () => {
    await agent.close();
    await open?.kill('SIGTERM');
    await guarded?.kill('SIGTERM');
    await p?.close();
    await db?.drop();
  });

  it('refuses every malformed, hostile or wrong-typed request with a 4xx in the error shape, writes nothing, and stays small', async () => {
    const rnd = seededRandom(SEED);
    const gen = new FuzzGen(rnd, live);
    const before = await rowCounts(db.url);
    await run(open.url, Array.from({ length: 300 }, () => gen.next())); // warm up before measuring memory
    const rssBefore = rssOf(open.proc.pid!);
    const started = Date.now();

    const openCases = Array.from({ length: OPEN_REQUESTS }, () => gen.next());
    const tokenCases = Array.from({ length: TOKEN_REQUESTS }, (_, i) => (i % 5 === 0 ? withToken(gen.next()) : gen.badToken(TOKEN)));
    const [openFailures, tokenFailures] = await Promise.all([run(open.url, openCases), run(guarded.url, tokenCases)]);
    const seconds = (Date.now() - started) / 1000;
    const rssGrowth = rssOf(open.proc.pid!) - rssBefore;
    const kinds = Object.entries([...openCases, ...tokenCases].reduce<Record<string, number>>((acc, c) => ((acc[c.kind] = (acc[c.kind] ?? 0) + 1), acc), {}));
    console.log(`[api fuzz] seed ${SEED}: ${openCases.length + tokenCases.length + 300} requests in ${seconds.toFixed(1)} s, RSS +${(rssGrowth / 2 ** 20).toFixed(1)} MiB; ${kinds.map(([k, n]) => `${k} ${n}`).join(', ')}`);

    expect(report(openFailures), 'open coordinator').toBe('');
    expect(report(tokenFailures), 'coordinator with DTX_API_TOKENS').toBe('');
    expect(await rowCounts(db.url)).toEqual(before);
    expect(rssGrowth).toBeLessThan(RSS_GROWTH_BOUND);
    expect((await api(open.url, 'GET', '/healthz')).status).toBe(200);
  }, 120_000);

  it('a valid driven transaction commits afterwards, on both coordinators', async () => {
    for (const [url, headers] of [[open.url, {}], [guarded.url, { authorization: `Bearer ${TOKEN}` }]] as const) {
      const res = await api(url, 'POST', '/v1/transactions', { drive: true, branches: [{ branchId: 'a', action: 'w.a', ...p.urls('w.a') }] }, headers);
      expect(res.body).toMatchObject({ status: 'committed', branches: [{ branchId: 'a', status: 'confirmed' }] });
    }
  }, 30_000);
});

function withToken(c: FuzzCase): FuzzCase {
  return { ...c, headers: { ...c.headers, authorization: `Bearer ${TOKEN}` } };
}
