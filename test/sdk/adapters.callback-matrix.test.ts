import { ensureBarrierTable, knexFromUrl } from '@dtx/participant-sdk';
import { participantRouter } from '@dtx/participant-sdk/express';
import { HEADER_SIGNATURE, newXid, signCallback } from '@dtx/protocol';
import express, { type ErrorRequestHandler } from 'express';
import type { Knex } from 'knex';
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type FreshDatabase } from '../support/services.js';
import { ADAPTERS, type AdapterName, type AdapterServer } from './support/adapter-servers.js';
import { Probe } from './support/test-participants.js';

const SECRET = 'matrix-secret-0123456789';

/** What a caller observes of one answer: the status, the error code if any, what the barrier did. */
interface Seen {
  status: number;
  code?: string;
  barrier?: string;
}

interface Send {
  phase: string;
  xid: string;
  payload?: unknown;
  /** Raw bytes to send instead of the callback's JSON. */
  raw?: string;
  contentType?: string;
  /** Sign for this URL rather than the one it is sent to (a replay), or with another secret. */
  signedFor?: string;
  secret?: string;
  action?: string;
  /** Another route below /dtx than the phase's of probe.act. */
  route?: string;
}

async function send(base: string, s: Send): Promise<Seen> {
  const url = `${base}/dtx${s.route ?? `/probe.act/${s.phase}`}`;
  const raw = s.raw ?? JSON.stringify({ xid: s.xid, branchId: 'b1', phase: s.phase, payload: s.payload ?? { do: 'ok' }, ...(s.action ? { action: s.action } : {}) });
  const signature = signCallback(s.secret ?? SECRET, s.signedFor ?? url, raw);
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': s.contentType ?? 'application/json', [HEADER_SIGNATURE]: signature }, body: raw });
  const text = await res.text();
  const seen: Seen = { status: res.status };
  const code = text ? (JSON.parse(text) as { error?: { code?: string } }).error?.code : undefined;
  if (code !== undefined) seen.code = code;
  const barrier = res.headers.get('dtx-barrier');
  if (barrier !== null) seen.barrier = barrier;
  return seen;
}

/**
 * The callback matrix, written once: each row sends what a coordinator (or a replayer)
 * would, against a fresh transaction, and reads what comes back.
 */
const MATRIX: { name: string; run(base: string): Promise<Seen[]>; expected: Seen[] }[] = [
  {
    name: 'try, its duplicate, confirm, its duplicate',
    run: async (base) => {
      const xid = newXid();
      return [await send(base, { phase: 'try', xid }), await send(base, { phase: 'try', xid }), await send(base, { phase: 'confirm', xid }), await send(base, { phase: 'confirm', xid })];
    },
    expected: [{ status: 200, barrier: 'ran' }, { status: 200, barrier: 'duplicate' }, { status: 204, barrier: 'ran' }, { status: 204, barrier: 'duplicate' }],
  },
  {
    name: 'try, cancel, its duplicate, then a confirm',
    run: async (base) => {
      const xid = newXid();
      return [await send(base, { phase: 'try', xid }), await send(base, { phase: 'cancel', xid }), await send(base, { phase: 'cancel', xid }), await send(base, { phase: 'confirm', xid })];
    },
    expected: [{ status: 200, barrier: 'ran' }, { status: 204, barrier: 'ran' }, { status: 204, barrier: 'duplicate' }, { status: 409, code: 'PHASE_CONFLICT' }],
  },
  {
    name: 'empty rollback, then the try after its cancel',
    run: async (base) => {
      const xid = newXid();
      return [await send(base, { phase: 'cancel', xid }), await send(base, { phase: 'try', xid })];
    },
    expected: [{ status: 204, barrier: 'empty_rollback' }, { status: 409, code: 'TRY_SUSPENDED' }],
  },
  {
    name: 'a business rejection and a crash',
    run: async (base) => [await send(base, { phase: 'try', xid: newXid(), payload: { do: 'reject' } }), await send(base, { phase: 'try', xid: newXid(), payload: { do: 'crash' } })],
    expected: [{ status: 409, code: 'BUSINESS_REJECTED' }, { status: 500, code: 'INTERNAL' }],
  },
  {
    name: 'a bad signature',
    run: async (base) => [await send(base, { phase: 'try', xid: newXid(), secret: 'another-secret-0123456789' })],
    expected: [{ status: 401, code: 'BAD_SIGNATURE' }],
  },
  {
    name: "a try's signed body replayed to the cancel URL, and a body naming another action",
    run: async (base) => [
      await send(base, { phase: 'cancel', xid: newXid(), signedFor: `${base}/dtx/probe.act/try` }),
      await send(base, { phase: 'try', xid: newXid(), action: 'probe.other' }),
    ],
    expected: [{ status: 401, code: 'BAD_SIGNATURE' }, { status: 400, code: 'INVALID_CALLBACK' }],
  },
  {
    name: "a message's check-back for a local transaction that never committed",
    run: async (base) => [await send(base, { phase: 'check', xid: newXid(), route: '/_msg/check' })],
    expected: [{ status: 409, code: 'MSG_ROLLED_BACK' }],
  },
  {
    name: 'an oversized body, a non-JSON body, a body of another media type',
    run: async (base) => [
      await send(base, { phase: 'try', xid: newXid(), payload: { do: 'ok', pad: 'x'.repeat(1_100_000) } }),
      await send(base, { phase: 'try', xid: newXid(), raw: '{nope' }),
      await send(base, { phase: 'try', xid: newXid(), raw: '<a/>', contentType: 'application/xml' }),
    ],
    expected: [{ status: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' }, { status: 400, code: 'INVALID_CALLBACK' }, { status: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }],
  },
];

describe.each(Object.keys(ADAPTERS) as AdapterName[])('the callback matrix served by %s', (adapter) => {
  let db: FreshDatabase;
  let knex: Knex;
  let server: AdapterServer;
  beforeAll(async () => {
    db = await freshDatabase('sqlite', `adapter_${adapter}`);
    knex = knexFromUrl(db.url);
    await ensureBarrierTable(knex);
    server = await ADAPTERS[adapter]({ knex, participants: [new Probe()], signingSecret: SECRET });
  });
  afterAll(async () => {
    await server?.close();
    await knex?.destroy();
    await db?.drop();
  });

  it.each(MATRIX)('$name', async ({ run, expected }) => {
    expect(await run(server.url)).toEqual(expected);
  });

  it('ran each phase 2 once: confirms and cancels that ran, none of the duplicates or refusals', () => {
    const probe = server.participants[0] as Probe;
    expect(probe).toBeInstanceOf(Probe);
    expect(probe.phase2.map((p) => p.phase).sort()).toEqual(['cancel', 'confirm']);
  });

  it("leaves the service's own routes alone: its JSON parsing and its error handling", async () => {
    const echo = await fetch(`${server.url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(echo.status).toBe(200);
    expect(await echo.json()).toEqual({ echoed: { a: 1 } });
    expect((await fetch(`${server.url}/boom`, { method: 'POST' })).status).toBe(418);
  });
});

describe('Express: a router mounted after express.json()', () => {
  it("hands BODY_ALREADY_READ to the app's error middleware rather than checking a signature over re-serialised JSON", async () => {
    const db = await freshDatabase('sqlite', 'adapter_express_late');
    const knex = knexFromUrl(db.url);
    const dtx = await participantRouter({ knex, participants: [new Probe()], signingSecret: SECRET });
    const app = express();
    app.use(express.json());
    app.use('/dtx', dtx.router);
    const caught: string[] = [];
    app.use(((err: { code?: string }, _req, res, _next) => {
      caught.push(err.code ?? '?');
      res.status(500).json({ error: { code: err.code } });
    }) as ErrorRequestHandler);
    const server = createServer(app).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const seen = await send(`http://127.0.0.1:${(server.address() as { port: number }).port}`, { phase: 'try', xid: newXid() });
      expect(seen).toEqual({ status: 500, code: 'BODY_ALREADY_READ' });
      expect(caught).toEqual(['BODY_ALREADY_READ']);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await dtx.close();
      await knex.destroy();
      await db.drop();
    }
  });
});
