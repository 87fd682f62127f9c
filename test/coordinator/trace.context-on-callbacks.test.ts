import { afterEach, describe, expect, test } from 'vitest';
import { parseTraceparent } from '@dtx/protocol';
import { spawnDtx, type DtxProcess } from '../support/coordinator-process.js';
import { api, eventually } from '../support/http.js';
import { startParticipant, type TestParticipant } from '../support/participant.js';
import { freshDatabase, type FreshDatabase } from '../support/services.js';
import { apiSuite } from './api.fixture.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;
const TRACESTATE = 'vendor=opaque,other=1';

const traceOf = (headers: Record<string, unknown>) => parseTraceparent(headers.traceparent as string);

/** PROTOCOL.md v1.1 "Trace context", with no OpenTelemetry SDK registered (the API is a no-op). */
describe('trace context on callbacks', () => {
  const s = apiSuite('sqlite', 'trace_context');

  test('a driven transaction: try and confirm carry the begin request\'s trace id, each call a span id of its own, and its tracestate', async () => {
    const res = await api(s.base, 'POST', '/v1/transactions', { drive: true, wait: true, branches: [{ branchId: 'a', ...s.p.urls('w.a') }, { branchId: 'b', ...s.p.urls('w.b') }] }, { traceparent: TRACEPARENT, tracestate: TRACESTATE });
    expect(res.body.status).toBe('committed');
    const calls = s.p.calls.filter((c) => c.body.xid === res.body.xid);
    expect(calls.map((c) => c.phase).sort()).toEqual(['confirm', 'confirm', 'try', 'try']);
    const traces = calls.map((c) => traceOf(c.headers));
    expect(traces.every((t) => t?.traceId === TRACE_ID)).toBe(true);
    const spanIds = traces.map((t) => t!.spanId);
    expect(new Set(spanIds).size).toBe(4);
    expect(spanIds).not.toContain('00f067aa0ba902b7');
    expect(calls.every((c) => c.headers.tracestate === TRACESTATE)).toBe(true);
    expect((await api(s.base, 'GET', `/v1/transactions/${res.body.xid}`)).headers['dtx-trace-id']).toBe(TRACE_ID);
  });

  test('initiator-driven: a cancel carries the trace of the request that began the transaction, not of later requests', async () => {
    const begun = await api(s.base, 'POST', '/v1/transactions', {}, { traceparent: TRACEPARENT });
    const x = begun.body.xid;
    await s.register(x, 'a');
    await api(s.base, 'POST', `/v1/transactions/${x}/rollback`, { wait: true }, { traceparent: '00-11111111111111111111111111111111-2222222222222222-01' });
    const [cancel] = s.p.callsOf('cancel', x);
    expect(traceOf(cancel!.headers)?.traceId).toBe(TRACE_ID);
  });

  test('a begin without traceparent still gives its transaction one trace id, shared by all its calls', async () => {
    const res = await api(s.base, 'POST', '/v1/transactions', { drive: true, wait: true, branches: [{ branchId: 'a', ...s.p.urls('w.a') }] });
    const ids = s.p.calls.filter((c) => c.body.xid === res.body.xid).map((c) => traceOf(c.headers)?.traceId);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(ids[1]).toBe(ids[0]);
    expect((await api(s.base, 'GET', `/v1/transactions/${res.body.xid}`)).headers['dtx-trace-id']).toBe(ids[0]);
  });

  test('a malformed traceparent is ignored (a new trace), never refused', async () => {
    const res = await api(s.base, 'POST', '/v1/transactions', { drive: true, wait: true, branches: [{ branchId: 'a', ...s.p.urls('w.a') }] }, { traceparent: 'garbage' });
    expect(res.status).toBe(201);
    const [tr] = s.p.callsOf('try', res.body.xid);
    expect(traceOf(tr!.headers)?.traceId).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('trace context after a restart', () => {
  let db: FreshDatabase;
  let p: TestParticipant;
  const procs: DtxProcess[] = [];
  afterEach(async () => {
    for (const proc of procs.splice(0)) await proc.kill('SIGKILL');
    await p?.close();
    await db?.drop();
  });

  test('the confirm a restarted coordinator makes (recovery, another process) carries the stored trace id', async () => {
    db = await freshDatabase('sqlite', 'trace_restart');
    p = await startParticipant();
    const env = { DTX_DATABASE_URL: db.url, DTX_SWEEP_INTERVAL_MS: '100', DTX_RETRY_BASE_MS: '100', DTX_RETRY_MAX_MS: '300', DTX_PHASE2_LEASE_MS: '1000' };
    let down = true;
    p.on('confirm', () => (down ? { status: 503, body: {} } : { status: 200, body: {} }));
    const first = await spawnDtx(['serve'], env);
    procs.push(first);
    const begun = await api(first.url, 'POST', '/v1/transactions', {}, { traceparent: TRACEPARENT });
    const x = begun.body.xid;
    await api(first.url, 'POST', `/v1/transactions/${x}/branches`, { branchId: 'a', ...p.urls('w.a') });
    await api(first.url, 'POST', `/v1/transactions/${x}/commit`, {});
    await eventually(async () => p.callsOf('confirm', x).length >= 1);
    await first.kill('SIGKILL');
    const before = p.callsOf('confirm', x).length;
    down = false;
    const second = await spawnDtx(['serve'], env);
    procs.push(second);
    await eventually(async () => (await api(second.url, 'GET', `/v1/transactions/${x}`)).body.status === 'committed');
    const confirms = p.callsOf('confirm', x);
    const byRecovery = confirms.slice(before);
    expect(byRecovery.length).toBeGreaterThanOrEqual(1);
    for (const c of confirms) expect(traceOf(c.headers)?.traceId).toBe(TRACE_ID);
    expect(byRecovery.at(-1)!.headers['dtx-attempt']).toBe(String(confirms.length));
  }, 60_000);
});
