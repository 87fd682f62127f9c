import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import knexFactory, { type Knex } from 'knex';
import type { CoordinatorOptions } from '../../coordinator/src/index.js';
import { startCoordinator, type Running } from '../support/coordinator.js';
import { api, type JsonResponse } from '../support/http.js';
import { startParticipant, type TestParticipant } from '../support/participant.js';
import type { FreshDatabase, StoreKind } from '../support/services.js';

export { FAST, startCoordinator, type Running } from '../support/coordinator.js';

export interface ApiSuite {
  readonly r: Running;
  readonly p: TestParticipant;
  /** The coordinator's URL. */
  readonly base: string;
  /** GET /v1/transactions/:xid, its body. */
  get(x: string): Promise<any>;
  /** POST /v1/transactions, asserting 201; the xid. */
  begin(body?: object): Promise<string>;
  /** Registers branch `branchId` (action `act.<branchId>`) on the suite's participant. */
  register(x: string, branchId: string, extra?: object): Promise<JsonResponse>;
}

/**
 * The API suites' setup, called inside a describe block: a coordinator on a fresh
 * `kind` database and a participant whose confirm and cancel answer 200 before each
 * test (a test may answer otherwise), with the calls most tests make.
 */
export function apiSuite(kind: StoreKind, label: string, options: CoordinatorOptions = {}): ApiSuite {
  let r: Running | undefined;
  let p: TestParticipant | undefined;
  beforeAll(async () => {
    r = await startCoordinator({ kind, label, ...options });
    p = await startParticipant();
  });
  afterAll(async () => {
    await r?.close();
    await p?.close();
  });
  beforeEach(() => {
    p!.on('confirm', () => ({ status: 200, body: {} })).on('cancel', () => ({ status: 200, body: {} }));
  });
  const suite: ApiSuite = {
    get r() {
      return r!;
    },
    get p() {
      return p!;
    },
    get base() {
      return r!.url;
    },
    get: async (x) => (await api(suite.base, 'GET', `/v1/transactions/${x}`)).body,
    begin: async (body = {}) => {
      const res = await api(suite.base, 'POST', '/v1/transactions', body);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.xid as string;
    },
    register: (x, branchId, extra = {}) =>
      api(suite.base, 'POST', `/v1/transactions/${x}/branches`, { branchId, action: `act.${branchId}`, ...suite.p.urls(`act.${branchId}`), ...extra }),
  };
  return suite;
}

/** A direct connection to a coordinator's database, for tests that break the store underneath it. */
export function openStore(db: FreshDatabase): Knex {
  if (db.url.startsWith('sqlite:')) {
    return knexFactory({ client: 'better-sqlite3', connection: { filename: db.url.slice('sqlite:'.length) }, useNullAsDefault: true });
  }
  return knexFactory({ client: db.kind === 'postgres' ? 'pg' : 'mysql2', connection: db.url, pool: { min: 0, max: 1 } });
}

/** Asserts the protocol's error shape `{ error: { code, message, details? } }`. */
export function expectError(r: JsonResponse, status: number, code: string): void {
  expect({ status: r.status, code: r.body?.error?.code }, JSON.stringify(r.body)).toEqual({ status, code });
  expect(typeof r.body.error.message).toBe('string');
  expect(r.body.error.message.length).toBeGreaterThan(0);
  if (r.body.error.details !== undefined) expect(typeof r.body.error.details).toBe('object');
  if (code === 'INVALID_REQUEST') {
    expect(Array.isArray(r.body.error.details?.issues)).toBe(true);
    expect(r.body.error.details.issues.length).toBeGreaterThan(0);
    for (const i of r.body.error.details.issues) expect(typeof i.message).toBe('string');
  }
}

/** Every transaction in the log, via the list endpoint (all pages). */
export async function listAll(base: string, headers: Record<string, string> = {}): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  do {
    const r: JsonResponse = await api(base, 'GET', `/v1/transactions?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, undefined, headers);
    expect(r.status).toBe(200);
    out.push(...r.body.items);
    cursor = r.body.nextCursor;
  } while (cursor);
  return out;
}

let n = 0;
/** A unique, valid xid for one test. */
export const xid = (label = 'tx'): string => `${label}-${Date.now().toString(36)}-${(n++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
