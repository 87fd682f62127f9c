import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api } from '../support/http.js';
import { startParticipant, type TestParticipant } from '../support/participant.js';
import { storeKinds } from '../support/services.js';
import { expectError, startCoordinator, xid, type Running } from './api.fixture.js';

const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: any;
}

/** Splits what a server wrote on a socket into its responses (bodies with content-length). */
function parseResponses(text: string): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = text;
  while (rest.startsWith('HTTP/1.1 ')) {
    const end = rest.indexOf('\r\n\r\n');
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
    const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    const length = Number(headers['content-length'] ?? 0);
    const raw = Buffer.from(rest.slice(end + 4)).subarray(0, length).toString();
    out.push({ status: Number(statusLine!.split(' ')[1]), headers, body: raw ? JSON.parse(raw) : undefined });
    rest = Buffer.from(rest.slice(end + 4)).subarray(length).toString();
  }
  return out;
}

/** Writes `chunks` on one raw connection (waiting for `between` before each later chunk) and collects every answer. */
async function rawExchange(url: string, chunks: string[], between: () => Promise<void> = async () => {}): Promise<RawResponse[]> {
  const u = new URL(url);
  const socket = connect(Number(u.port), u.hostname);
  let text = '';
  socket.on('data', (d) => (text += d));
  socket.on('error', () => {});
  const closed = new Promise<void>((res) => socket.on('close', () => res()));
  for (const [i, chunk] of chunks.entries()) {
    if (i > 0) await between();
    socket.write(chunk);
  }
  await Promise.race([closed, new Promise((res) => setTimeout(res, 3000))]);
  socket.destroy();
  return parseResponses(text);
}

/** PROTOCOL.md: errors always have the shape `{ error: { code, message, details? } }`, bad params are 400 INVALID_REQUEST. */
describe.each(stores)('error shape on %s', (kind) => {
  let r: Running;
  let p: TestParticipant;
  let base: string;
  let target: string;
  beforeAll(async () => {
    r = await startCoordinator({ kind, label: 'api_shape' });
    base = r.url;
    p = await startParticipant();
    target = xid('target');
    expect((await api(base, 'POST', '/v1/transactions', { xid: target })).status).toBe(201);
    expect((await api(base, 'POST', `/v1/transactions/${target}/branches`, { branchId: 'b1', ...p.urls('w') })).status).toBe(201);
  });
  afterAll(async () => {
    await r.close();
    await p.close();
  });

  test('an xid or branchId of any length over the limit is 400 INVALID_REQUEST naming the param', async () => {
    const before = (await api(base, 'GET', `/v1/transactions/${target}`)).body;
    for (const n of [129, 256, 257, 300, 4000]) {
      const long = 'x'.repeat(n);
      for (const [method, path, body] of [
        ['GET', `/v1/transactions/${long}`, undefined],
        ['POST', `/v1/transactions/${long}/branches`, { branchId: 'b', ...p.urls('w') }],
        ['POST', `/v1/transactions/${long}/commit`, {}],
        ['POST', `/v1/transactions/${long}/rollback`, {}],
        ['POST', `/v1/transactions/${long}/retry`, {}],
        ['POST', `/v1/transactions/${long}/branches/b1/try-result`, { ok: true }],
      ] as const) {
        const res = await api(base, method, path, body);
        expectError(res, 400, 'INVALID_REQUEST');
        expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toEqual(['/params/xid']);
      }
    }
    for (const n of [65, 257, 4000]) {
      const res = await api(base, 'POST', `/v1/transactions/${target}/branches/${'b'.repeat(n)}/try-result`, { ok: true });
      expectError(res, 400, 'INVALID_REQUEST');
      expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toEqual(['/params/branchId']);
    }
    expect((await api(base, 'GET', `/v1/transactions/${target}`)).body).toEqual(before);
  });

  test('a request node cannot parse is 400 INVALID_REQUEST in the protocol shape', async () => {
    const requests = [
      `POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{"xid":"${xid('cl')}"}`,
      `GET /v1/transactions HTTP/1.1\r\nHost: x\r\nX-Big: ${'h'.repeat(20_000)}\r\n\r\n`,
      'GARBAGE\r\n\r\n',
    ];
    for (const request of requests) {
      const [res, ...more] = await rawExchange(base, [request]);
      expect(more).toHaveLength(0);
      expect(res?.headers['content-type']).toMatch(/^application\/json/);
      expectError({ status: res!.status, body: res!.body, headers: res!.headers }, 400, 'INVALID_REQUEST');
    }
  });

  test('an unknown route or method is 404 in the protocol shape', async () => {
    for (const [method, path, body] of [
      ['GET', '/nope', undefined],
      ['GET', '/v2/transactions', undefined],
      ['POST', '/v1/nope', { a: 1 }],
      ['DELETE', `/v1/transactions/${target}`, undefined],
      ['PUT', '/v1/transactions', {}],
    ] as const) {
      const res = await api(base, method, path, body);
      expectError(res, 404, 'NOT_FOUND');
      expect(res.headers['content-type']).toMatch(/^application\/json/);
    }
    const [plain] = await rawExchange(base, ['POST /v1/nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nabcd']);
    expectError({ status: plain!.status, body: plain!.body, headers: plain!.headers }, 404, 'NOT_FOUND');
  });
});

describe.each(stores)('a closing coordinator on %s', (kind) => {
  let p: TestParticipant;
  beforeAll(async () => {
    p = await startParticipant();
  });
  afterAll(async () => {
    await p.close();
  });

  test('a request arriving while it closes is 503 STORE_UNAVAILABLE with Retry-After; the one in flight finishes', async () => {
    const r = await startCoordinator({ kind, label: 'api_closing' });
    const x = xid('closing');
    expect((await api(r.url, 'POST', '/v1/transactions', { xid: x })).status).toBe(201);
    expect((await api(r.url, 'POST', `/v1/transactions/${x}/branches`, { branchId: 'a', ...p.urls('a') })).status).toBe(201);
    p.on('confirm', () => ({ status: 200, body: {}, delayMs: 600 }));
    let closed: Promise<void> | undefined;
    let answers: RawResponse[];
    try {
      // the commit waits on a slow confirm; the coordinator starts closing; a second request comes on that connection
      answers = await rawExchange(
        r.url,
        [
          `POST /v1/transactions/${x}/commit HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"wait":true}`,
          'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n',
        ],
        async () => {
          while (p.callsOf('confirm', x).length === 0) await new Promise((res) => setTimeout(res, 10));
          closed = r.close();
          await new Promise((res) => setTimeout(res, 100));
        },
      );
    } finally {
      await (closed ?? r.close());
    }
    expect(answers.map((a) => a.status)).toEqual([200, 503]);
    expect(answers[0]!.body).toEqual({ xid: x, status: 'committed' });
    const refused = answers[1]!;
    expectError({ status: refused.status, body: refused.body, headers: refused.headers }, 503, 'STORE_UNAVAILABLE');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.headers['content-type']).toMatch(/^application\/json/);
  });
});
