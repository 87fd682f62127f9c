import { connect } from 'node:net';
import knexFactory from 'knex';
import { afterEach, describe, expect, test } from 'vitest';
import { startCoordinator, type Running } from '../support/coordinator.js';
import { api } from '../support/http.js';
import { storeKinds } from '../support/services.js';

// Bounds the coordinator sets itself: a client must send its whole request in time, and
// the log's database gives up a statement a little after the coordinator stopped waiting
// for it, so a lock held elsewhere does not keep pool connections busy.
const serverStores = (await storeKinds(['mysql', 'postgres'])).filter((k) => k !== 'sqlite');

describe('a client that sends its body too slowly', () => {
  let r: Running | undefined;
  afterEach(async () => r?.close());

  test('is answered 400 INVALID_REQUEST once requestTimeoutMs passes, and the connection is closed', async () => {
    r = await startCoordinator({ requestTimeoutMs: 1000 });
    const { port } = new URL(r.url);
    const started = Date.now();
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write('POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"timeo');
      });
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      setTimeout(() => socket.destroy(new Error('still open after 8 s')), 8000);
    });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect(reply).toContain('"code":"INVALID_REQUEST"');
  });
});

describe.each(serverStores)('a log statement blocked by a lock held elsewhere on %s', (kind) => {
  let r: Running | undefined;
  afterEach(async () => r?.close());

  test('the coordinator answers 503 in about 3 s, and the database has cancelled the statement soon after', async () => {
    r = await startCoordinator({ kind, label: 'stmttimeout', recovery: false });
    const begun = await api(r.url, 'POST', '/v1/transactions', {});
    const xid = begun.body.xid as string;
    const other = knexFactory({ client: kind === 'mysql' ? 'mysql2' : 'pg', connection: r.db.url, pool: { min: 0, max: 2 } });
    const holder = await other.transaction();
    try {
      await holder('dtx_global_tx').where({ xid }).forUpdate().first();
      const answer = await api(r.url, 'POST', `/v1/transactions/${xid}/rollback`, {});
      expect(answer.status).toBe(503);
      await new Promise((res) => setTimeout(res, 3000)); // past STATEMENT_TIMEOUT_MS (4 s) from the write's start
      const name = new URL(r.db.url).pathname.slice(1);
      const waiting = kind === 'mysql'
        ? await other.raw(`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND COMMAND = 'Query' AND INFO LIKE 'update%'`, [name])
        : await other.raw(`SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE datname = ? AND wait_event_type = 'Lock'`, [name]);
      const n = Number(kind === 'mysql' ? waiting[0][0].n : waiting.rows[0].n);
      expect(n).toBe(0);
    } finally {
      await holder.rollback();
      await other.destroy();
    }
    // and the log is usable again at once
    expect((await api(r.url, 'POST', `/v1/transactions/${xid}/rollback`, { wait: true })).body.status).toMatch(/rolling_back|rolled_back/);
  });
});
