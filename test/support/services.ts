import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knexFactory from 'knex';

/**
 * Real services for tests. MySQL (MariaDB), PostgreSQL and Redis are expected on
 * 127.0.0.1. Under CI=true a missing one fails the suite; on a developer's
 * machine without them the suites that need them are left out with a warning.
 */
export type StoreKind = 'sqlite' | 'mysql' | 'postgres';

export const MYSQL_ROOT_URL = process.env.DTX_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
export const POSTGRES_ROOT_URL = process.env.DTX_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.DTX_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

const reachable = new Map<string, Promise<boolean>>();

async function probe(kind: 'mysql' | 'postgres' | 'redis'): Promise<boolean> {
  try {
    if (kind === 'redis') {
      const { Redis } = await import('ioredis');
      const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      try {
        await r.connect();
        await r.ping();
      } finally {
        r.disconnect();
      }
      return true;
    }
    const db = knexFactory(kind === 'mysql'
      ? { client: 'mysql2', connection: MYSQL_ROOT_URL, pool: { min: 0, max: 1 } }
      : { client: 'pg', connection: POSTGRES_ROOT_URL, pool: { min: 0, max: 1 } });
    try {
      await db.raw('select 1');
    } finally {
      await db.destroy();
    }
    return true;
  } catch {
    return false;
  }
}

/** True when the service answers; under CI a missing service throws instead. */
export async function requireService(kind: 'mysql' | 'postgres' | 'redis'): Promise<boolean> {
  if (!reachable.has(kind)) reachable.set(kind, probe(kind));
  const ok = await reachable.get(kind)!;
  if (!ok && IN_CI) throw new Error(`${kind} is not reachable, and CI=true: tests that need it must fail, not skip`);
  if (!ok) console.warn(`[dtx tests] ${kind} is not reachable: its suites are left out (they fail under CI=true)`);
  return ok;
}

/** True when `what` is installed; under CI a missing one throws instead, as requireService does. */
export function requireInstalled(what: string, installed: boolean): boolean {
  if (!installed && IN_CI) throw new Error(`${what} is not installed, and CI=true: tests that need it must fail, not skip`);
  if (!installed) console.warn(`[dtx tests] ${what} is not installed: its suites are left out (they fail under CI=true)`);
  return installed;
}

/** The store kinds to run a suite on: sqlite always, the others when reachable (always under CI). */
export async function storeKinds(wanted: StoreKind[] = ['sqlite', 'mysql', 'postgres']): Promise<StoreKind[]> {
  const out: StoreKind[] = [];
  for (const kind of wanted) {
    if (kind === 'sqlite' || (await requireService(kind))) out.push(kind);
  }
  return out;
}

export interface FreshDatabase {
  kind: StoreKind;
  /** A URL in DTX_DATABASE_URL form: `sqlite:<path>`, `mysql://…/<db>`, `postgres://…/<db>`. */
  url: string;
  drop(): Promise<void>;
}

/** A new, empty database of the given kind, for one test or suite. */
export async function freshDatabase(kind: StoreKind, label = 'dtx'): Promise<FreshDatabase> {
  const name = `${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(5).toString('hex')}`;
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'dtx-test-'));
    return { kind, url: `sqlite:${join(dir, `${name}.db`)}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const rootUrl = kind === 'mysql' ? MYSQL_ROOT_URL : POSTGRES_ROOT_URL;
  const admin = knexFactory({ client: kind === 'mysql' ? 'mysql2' : 'pg', connection: rootUrl, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(kind === 'mysql' ? `CREATE DATABASE \`${name}\`` : `CREATE DATABASE "${name}"`);
  } finally {
    await admin.destroy();
  }
  const base = new URL(rootUrl);
  base.pathname = `/${name}`;
  return {
    kind,
    url: base.toString(),
    drop: async () => {
      const a = knexFactory({ client: kind === 'mysql' ? 'mysql2' : 'pg', connection: rootUrl, pool: { min: 0, max: 1 } });
      try {
        await a.raw(kind === 'mysql' ? `DROP DATABASE IF EXISTS \`${name}\`` : `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await a.destroy();
      }
    },
  };
}
