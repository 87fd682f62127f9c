import { once } from 'node:events';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DISCARD_BOUND_BYTES } from '../../coordinator/src/http/discard-oversized.js';
import { api } from '../support/http.js';
import { expectError, startCoordinator, type Running } from './api.fixture.js';

const MIB = 1024 * 1024;
/** A JSON body of `bytes`, well formed, so only its size is wrong. */
const oversized = (bytes: number) => Buffer.from(`{"meta":{"pad":"${'x'.repeat(bytes - 20)}"}}`);
const inChunks = (body: Buffer) => () =>
  Readable.from((function* () {
    for (let at = 0; at < body.length; at += 64 * 1024) yield body.subarray(at, at + 64 * 1024);
  })());

/**
 * PROTOCOL.md: a body over the limit is 413 PAYLOAD_TOO_LARGE in the error shape. A client that
 * is still writing its body when the server decides must read that answer, not a broken pipe,
 * and its keep-alive connection must serve the next request; past the discard bound the
 * connection is cut instead of read to its end.
 */
describe('oversized bodies on keep-alive connections', () => {
  let r: Running;

  beforeAll(async () => {
    r = await startCoordinator({ label: 'api_oversized' });
  });
  afterAll(async () => {
    await r.close();
  });

  async function send(client: Client, body: Buffer | (() => Readable)) {
    const res = await client.request({
      path: '/v1/transactions',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'function' ? body() : body,
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: JSON.parse(text), headers: res.headers };
  }

  /** A raw client that writes its whole body whatever the server does, as most do; what it could write, and what it read. */
  async function rawPost(total: number, chunked: boolean): Promise<{ written: number; answer: string }> {
    const socket = connect(Number(new URL(r.url).port), '127.0.0.1');
    await once(socket, 'connect');
    const length = chunked ? 'transfer-encoding: chunked' : `content-length: ${total}`;
    socket.write(`POST /v1/transactions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n${length}\r\n\r\n`);
    let answer = '';
    socket.on('data', (d) => (answer += d));
    socket.on('error', () => {});
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const framed = chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]) : chunk;
    let written = 0;
    while (written < total && !socket.destroyed) {
      written += chunk.length;
      if (!socket.write(framed)) await Promise.race([once(socket, 'drain').catch(() => {}), closed]);
    }
    if (!socket.destroyed) {
      if (chunked) socket.write('0\r\n\r\n');
      // the answer before the client's end of stream, which the server would take as a close
      const answered = new Promise<void>((resolve) => socket.on('data', () => answer.endsWith('}}') && resolve()));
      await Promise.race([answered, closed]);
      socket.end();
    }
    await closed;
    return { written, answer };
  }

  test('200 sequential 2 MiB bodies with a content-length on one connection: each answered 413 in the error shape, the connection kept', async () => {
    const client = new Client(r.url, { pipelining: 1 });
    let connections = 0;
    client.on('connect', () => connections++);
    try {
      const body = oversized(2 * MIB);
      for (let i = 0; i < 200; i++) {
        const a = await send(client, body);
        expectError(a, 413, 'PAYLOAD_TOO_LARGE');
        expect(a.headers.connection).not.toBe('close');
      }
    } finally {
      await client.close();
    }
    expect(connections).toBe(1);
    // the coordinator serves as before, and wrote nothing of them
    const list = await api(r.url, 'GET', '/v1/transactions?limit=1');
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(0);
  });

  test('bodies larger than the sockets can buffer (12 MiB), with a length or chunked: the whole body is taken, then the 413', async () => {
    for (const chunked of [false, true]) {
      for (let i = 0; i < 3; i++) {
        const { written, answer } = await rawPost(12 * MIB, chunked);
        expect(written).toBe(12 * MIB);
        expect(answer).toMatch(/^HTTP\/1\.1 413/);
        expect(answer).toMatch(/"code":"PAYLOAD_TOO_LARGE"/);
        expect(answer.toLowerCase()).not.toMatch(/connection: close/); // HTTP/1.1: the connection stays
      }
    }
  });

  test('past the bound the connection is cut, not read to its end, whether the length is declared or not', async () => {
    const total = 4 * DISCARD_BOUND_BYTES;
    const declared = await rawPost(total, false);
    expect(declared.answer).toMatch(/^HTTP\/1\.1 413/); // answered at once, before the body
    expect(declared.written).toBeLessThan(total / 2);
    const streamed = await rawPost(total, true);
    expect(streamed.written).toBeLessThan(total / 2);
    // the coordinator is unharmed
    expectError(await api(r.url, 'POST', '/v1/transactions', oversized(2 * MIB).toString()), 413, 'PAYLOAD_TOO_LARGE');
  });
});
