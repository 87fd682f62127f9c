import { ensureBarrierTable, knexFromUrl, participantPlugin } from '@dtx/participant-sdk';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { afterEach, describe, expect, it } from 'vitest';
import { freshDatabase, type FreshDatabase } from '../support/services.js';
import { newXid } from './support/callbacks.js';
import { Probe } from './support/test-participants.js';

describe('participant plugin answers (PROTOCOL.md "How the caller reads the answer")', () => {
  let app: FastifyInstance | undefined;
  let knex: Knex | undefined;
  let db: FreshDatabase | undefined;
  afterEach(async () => {
    await app?.close();
    await knex?.destroy();
    await db?.drop();
    app = undefined;
  });

  async function serve(prefix?: string): Promise<FastifyInstance> {
    db = await freshDatabase('sqlite', 'plugin');
    knex = knexFromUrl(db.url);
    await ensureBarrierTable(knex);
    app = Fastify();
    await app.register(participantPlugin, { knex, participants: [new Probe()], ...(prefix !== undefined ? { prefix } : {}) });
    await app.ready();
    return app;
  }

  const post = (a: FastifyInstance, url: string, body: unknown, headers: Record<string, string> = {}) =>
    a.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(body) });
  const cb = (payload: unknown, phase = 'try') => ({ xid: newXid(), branchId: 'b1', phase, payload });

  it('try succeeds with 200 and its result as the JSON body; a string result is JSON too; no result is 204', async () => {
    const a = await serve();
    const ok = await post(a, '/dtx/probe.act/try', cb({ do: 'ok' }), { 'dtx-attempt': '3' });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['content-type']).toMatch(/application\/json/);
    expect(ok.json()).toMatchObject({ attempt: 3 });
    const str = await post(a, '/dtx/probe.act/try', cb({ do: 'string' }));
    expect(str.statusCode).toBe(200);
    expect(str.json()).toBe('plain');
    expect((await post(a, '/dtx/probe.act/try', cb({ do: 'nothing' }))).statusCode).toBe(204);
  });

  it('a business rejection is 409 BUSINESS_REJECTED, a crash 500 INTERNAL (retried), and a crashed try can be retried', async () => {
    const a = await serve();
    const rejected = await post(a, '/dtx/probe.act/try', cb({ do: 'reject' }));
    expect(rejected.statusCode).toBe(409);
    expect(rejected.json()).toEqual({ error: { code: 'BUSINESS_REJECTED', message: 'no thanks', details: { why: 'asked to' } } });
    const crashed = await post(a, '/dtx/probe.act/try', cb({ do: 'crash' }));
    expect(crashed.statusCode).toBe(500);
    expect(crashed.json()).toMatchObject({ error: { code: 'INTERNAL' } });

    const flaky = cb({ do: 'ok', failAttempts: 1 });
    expect((await post(a, '/dtx/probe.act/try', flaky, { 'dtx-attempt': '1' })).statusCode).toBe(500);
    const second = await post(a, '/dtx/probe.act/try', flaky, { 'dtx-attempt': '2' });
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({ attempt: 2 });
  });

  it("a handler's own error carrying a 4xx statusCode is still 500 (retried), not a rejection", async () => {
    const a = await serve();
    const res = await post(a, '/dtx/probe.act/try', cb({ do: 'crash-404' }));
    // A 404 would make the initiator roll the whole transaction back over a passing hiccup.
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ error: { code: 'INTERNAL', message: 'inventory service: not found' } });
  });

  it("fastify's own refusals of the request keep their status", async () => {
    const a = await serve();
    const xml = await a.inject({ method: 'POST', url: '/dtx/probe.act/try', headers: { 'content-type': 'application/xml' }, payload: '<a/>' });
    expect(xml.statusCode).toBe(415);
    const huge = await post(a, '/dtx/probe.act/try', cb({ do: 'ok', pad: 'x'.repeat(1_100_000) }));
    expect(huge.statusCode).toBe(413);
  });

  it('a malformed callback is 400 and an unknown action 404', async () => {
    const a = await serve();
    expect((await post(a, '/dtx/probe.act/try', { branchId: 'b1', payload: {} })).statusCode).toBe(400);
    expect((await post(a, '/dtx/probe.act/try', { xid: 'bad xid!', branchId: 'b1' })).statusCode).toBe(400);
    expect((await post(a, '/dtx/probe.act/confirm', cb({}, 'try'))).statusCode).toBe(400);
    expect((await post(a, '/dtx/probe.act/try', cb({}), { 'dtx-xid': 'someone-else' })).statusCode).toBe(400);
    const notJson = await a.inject({ method: 'POST', url: '/dtx/probe.act/try', headers: { 'content-type': 'application/json' }, payload: '{nope' });
    expect(notJson.statusCode).toBe(400);
    expect((await post(a, '/dtx/probe.other/try', cb({}))).statusCode).toBe(404);
  });

  it('serves under /dtx by default and under a given prefix otherwise', async () => {
    const a = await serve('/tcc');
    expect((await post(a, '/tcc/probe.act/try', cb({ do: 'ok' }))).statusCode).toBe(200);
    expect((await post(a, '/dtx/probe.act/try', cb({ do: 'ok' }))).statusCode).toBe(404);
  });
});
