import { createHook } from 'node:async_hooks';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HttpParticipantCaller } from '../../coordinator/src/phase2/participant-caller.js';
import { JsonHttp } from '../../participant-sdk/src/client/http-json.js';

/** A participant that answers every call at once, or after `?delay=<ms>`. */
let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    const delay = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('delay') ?? 0);
    const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    if (delay > 0) setTimeout(answer, delay);
    else answer();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

/** Timers of `ms` that `run` created and that are still pending once it settled. */
async function timersLeftBy(ms: number, run: () => Promise<unknown>): Promise<number> {
  const live = new Set<number>();
  const hook = createHook({
    init: (id, type, _trigger, timer) => void (type === 'Timeout' && (timer as { _idleTimeout?: number })._idleTimeout === ms && live.add(id)),
    destroy: (id) => void live.delete(id),
  }).enable();
  try {
    await run();
    // destroy hooks are delivered in batches, a little after the timer is cleared
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 10));
    return live.size;
  } finally {
    hook.disable();
  }
}
const call = (caller: HttpParticipantCaller, url: string, timeoutMs: number) =>
  caller.call({ url, attempt: 1, timeoutMs, body: { xid: 'x1', branchId: 'b1', phase: 'confirm', payload: undefined } });

describe("the coordinator's HttpParticipantCaller", () => {
  test('a call leaves no timer behind once it is answered, however long its timeout', async () => {
    const caller = new HttpParticipantCaller();
    try {
      await call(caller, `${base}/warm`, 60_000);
      const left = await timersLeftBy(60_000, async () => {
        const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => call(caller, `${base}/c${i}`, 60_000)));
        expect(answers.every((a) => a.kind === 'ok')).toBe(true);
      });
      expect(left).toBe(0);
    } finally {
      await caller.close();
    }
  });

  test('a participant slower than the timeout is a timeout, reported as such', async () => {
    const caller = new HttpParticipantCaller();
    try {
      const t0 = Date.now();
      const answer = await call(caller, `${base}/slow?delay=1000`, 150);
      expect(answer).toMatchObject({ kind: 'retry', status: null, error: 'timeout after 150 ms' });
      expect(Date.now() - t0).toBeLessThan(900);
    } finally {
      await caller.close();
    }
  });
});

describe("the SDK's JsonHttp (initiator client, driven tries)", () => {
  test('a call leaves no timer behind once it is answered', async () => {
    const http = new JsonHttp();
    try {
      await http.send('POST', `${base}/warm`, { body: '{}', timeoutMs: 60_000 });
      const left = await timersLeftBy(60_000, async () => {
        const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => http.send('POST', `${base}/c${i}`, { body: '{}', timeoutMs: 60_000 })));
        expect(answers.every((a) => a.status === 200)).toBe(true);
      });
      expect(left).toBe(0);
    } finally {
      await http.close();
    }
  });

  test('a participant slower than the timeout throws, naming the timeout', async () => {
    const http = new JsonHttp();
    try {
      await expect(http.send('POST', `${base}/slow?delay=1000`, { body: '{}', timeoutMs: 150 })).rejects.toThrow('timeout after 150 ms');
    } finally {
      await http.close();
    }
  });
});
