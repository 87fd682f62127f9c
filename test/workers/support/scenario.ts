import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { dropKeys } from '../../support/redis-commands.js';
import knexFactory, { type Knex } from 'knex';
import { expect } from 'vitest';
import { spawnDtx, type DtxProcess } from '../../support/coordinator-process.js';
import { api, eventually } from '../../support/http.js';
import { freshDatabase, REDIS_URL, requireService, storeKinds, type FreshDatabase } from '../../support/services.js';
import type { LedgerParticipant } from './ledger.js';

/** Small timings, so a test sees several sweeps and retries in a few seconds. */
export const FAST: Record<string, string> = {
  DTX_SWEEP_INTERVAL_MS: '200',
  DTX_RETRY_BASE_MS: '200',
  DTX_RETRY_MAX_MS: '1000',
  DTX_PHASE2_LEASE_MS: '3000',
  DTX_CALL_TIMEOUT_MS: '1000',
  // a participant a test brings back is tried again within a second, not the default 5
  DTX_CIRCUIT_OPEN_MS: '1000',
};

export interface LogRow {
  xid: string;
  status: string;
  reason: string | null;
  attempts: number;
  lastError: string | null;
}

export type ServerStore = 'mysql' | 'postgres';

/** One test's world: its own MariaDB or PostgreSQL database, its own BullMQ prefix, and the dtx processes it spawned. */
export class Scenario {
  readonly procs: DtxProcess[] = [];
  #knex: Knex | null = null;

  private constructor(
    readonly db: FreshDatabase,
    readonly prefix: string,
    readonly redisUrl: string,
  ) {}

  /**
   * One scenario per server store (MariaDB, PostgreSQL) that answers, as `[kind, scenario]`
   * for describe.each; none without Redis, each store left out when missing off CI
   * (under CI a missing one throws instead).
   */
  static async perStore(label: string, redisUrl = REDIS_URL): Promise<[ServerStore, Scenario][]> {
    if (!(await requireService('redis'))) return [];
    const kinds = (await storeKinds(['mysql', 'postgres'])).filter((k): k is ServerStore => k !== 'sqlite');
    const out: [ServerStore, Scenario][] = [];
    for (const kind of kinds) out.push([kind, new Scenario(await freshDatabase(kind, label), `dtxt_${label}_${randomBytes(4).toString('hex')}`, redisUrl)]);
    return out;
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return { DTX_DATABASE_URL: this.db.url, DTX_REDIS_URL: this.redisUrl, DTX_QUEUE_PREFIX: this.prefix, ...FAST, ...extra };
  }

  async coordinator(extra: Record<string, string> = {}): Promise<DtxProcess> {
    const c = await spawnDtx(['serve'], this.env(extra));
    this.procs.push(c);
    return c;
  }

  async worker(concurrency: number, extra: Record<string, string> = {}): Promise<DtxProcess> {
    const w = await spawnDtx(['worker', '--concurrency', String(concurrency)], this.env(extra), /dtx worker ready/);
    this.procs.push(w);
    return w;
  }

  get knex(): Knex {
    this.#knex ??= knexFactory({ client: this.db.kind === 'postgres' ? 'pg' : 'mysql2', connection: this.db.url, pool: { min: 0, max: 2 } });
    return this.#knex;
  }

  /** The log itself: what an operator sees, whether or not any coordinator is up. */
  async rows(xids?: readonly string[]): Promise<LogRow[]> {
    let q = this.knex('dtx_global_tx').select('xid', 'status', 'reason', 'attempts', 'last_error');
    if (xids) q = q.whereIn('xid', xids as string[]);
    const rows = await q;
    return rows.map((r: any) => ({ xid: r.xid, status: r.status, reason: r.reason, attempts: Number(r.attempts), lastError: r.last_error }));
  }

  /** Resolves once every xid has reached one of `statuses`; returns the rows. */
  async waitFor(xids: readonly string[], statuses: string[], timeoutMs = 20_000): Promise<LogRow[]> {
    let last: LogRow[] = [];
    try {
      return await eventually(async () => {
        last = await this.rows(xids);
        return last.length === xids.length && last.every((r) => statuses.includes(r.status)) ? last : null;
      }, timeoutMs, 100);
    } catch (err) {
      const pending = last.filter((r) => !statuses.includes(r.status));
      throw new Error(`${pending.length} of ${xids.length} not ${statuses.join('/')}: ${JSON.stringify(pending.slice(0, 3))}\n${this.procs.map((p) => p.output().slice(-2000)).join('\n---\n')}`, { cause: err });
    }
  }

  /** SIGTERM: a worker drains and prints its stats line. */
  async stop(p: DtxProcess): Promise<{ code: number | null; stats: Record<string, number> }> {
    const closed = p.proc.stdout!.readableEnded ? Promise.resolve() : once(p.proc, 'close');
    const code = await p.kill('SIGTERM');
    await closed; // 'exit' can come before the last output
    const m = /dtx worker stopped: (.*)/.exec(p.output());
    const stats = Object.fromEntries((m?.[1] ?? '').split(' ').filter(Boolean).map((kv) => kv.split('=')).map(([k, v]) => [k!, Number(v)]));
    return { code, stats };
  }

  async close(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.kill('SIGKILL')));
    await this.#knex?.destroy();
    await this.db.drop();
    await dropKeys(this.redisUrl, this.prefix).catch(() => {});
  }
}

/** Driven transactions whose phase 2 fails while `participant` is down: they are left committing (or rolling_back) for recovery. */
export async function seedUnfinished(
  base: string,
  n: number,
  branches: (i: number) => { branchId: string; action: string; tryUrl: string; confirmUrl: string; cancelUrl: string }[],
  expectStatus: 'committing' | 'rolling_back' = 'committing',
): Promise<string[]> {
  const xids: string[] = [];
  for (let i = 0; i < n; i += 10) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(10, n - i) }, (_, k) => api(base, 'POST', '/v1/transactions', { drive: true, branches: branches(i + k) })),
    );
    for (const r of batch) {
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body.status).toBe(expectStatus);
      xids.push(r.body.xid);
    }
  }
  return xids;
}

/** Every branch's effect applied exactly once: a second 2xx would mean a branch was driven twice. */
export function expectAppliedOnce(p: LedgerParticipant, phase: 'confirm' | 'cancel', xids: readonly string[], branchIds: readonly string[]): void {
  const wrong: string[] = [];
  for (const xid of xids) for (const b of branchIds) if (p.appliedCount(phase, xid, b) !== 1) wrong.push(`${xid}/${b}: ${p.appliedCount(phase, xid, b)}`);
  expect(wrong).toEqual([]);
}
