import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, eventually } from '../support/http.js';
import { storeKinds } from '../support/services.js';
import { branchStatuses, dtmCall, globalStatus, pythonClient } from './support/dtm-client.js';
import { freshGids, startDtmFixture, type DtmFixture } from './support/dtm-fixture.js';

const SUCCESS = '{"dtm_result":"SUCCESS"}';

/** Messages through the DTM surface, with the bodies DTM's Node and Python clients send; DTM's TestMsg* cases. */
describe.each(await storeKinds(['sqlite', 'postgres']))('DTM msg on %s', (kind) => {
  let f: DtmFixture;
  beforeAll(async () => {
    f = await startDtmFixture({ kind });
  });
  afterAll(() => f.close());

  const fresh = freshGids(() => f, `msg-${kind}`);

  /** What dtmcli-node's Msg sends to prepare and to submit (typedjson: only its decorated fields). */
  const nodeMsg = (gid: string, at: (n: string) => string, extra: Record<string, unknown> = {}) => ({
    gid,
    trans_type: 'msg',
    steps: [{ action: at('TransOut') }, { action: at('TransIn') }],
    payloads: ['{"amount":30}', '{"amount":30}'],
    query_prepared: at('QueryPrepared'),
    ...extra,
  });

  it('normal (TestMsgNormal): prepare calls nothing; submit delivers the actions in order, POST with the raw payload, op=action; rows [succeed, succeed]', async () => {
    const { gid, at, path } = fresh();
    expect(await dtmCall(f.dtm, 'prepare', nodeMsg(gid, at))).toMatchObject({ status: 200, text: SUCCESS });
    expect(await globalStatus(f.dtm, gid)).toBe('prepared');
    expect(await branchStatuses(f.dtm, gid)).toEqual(['prepared', 'prepared']);
    expect(f.p.callsTo(undefined, gid)).toEqual([]);
    expect(await dtmCall(f.dtm, 'submit', nodeMsg(gid, at))).toMatchObject({ status: 200, text: SUCCESS });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'succeed');
    expect(f.p.callsTo(undefined, gid).map((c) => [c.method, c.path, c.query, c.rawBody])).toEqual([
      ['POST', path('TransOut'), { gid, trans_type: 'msg', branch_id: '01', op: 'action' }, '{"amount":30}'],
      ['POST', path('TransIn'), { gid, trans_type: 'msg', branch_id: '02', op: 'action' }, '{"amount":30}'],
    ]);
    const q = await dtmCall(f.dtm, `query?gid=${gid}`);
    expect(q.json.transaction).toMatchObject({ trans_type: 'msg', status: 'succeed', query_prepared: at('QueryPrepared') });
    expect(q.json.branches.map((b: any) => [b.branch_id, b.op, b.status, b.url])).toEqual([
      ['01', 'action', 'succeed', at('TransOut')],
      ['02', 'action', 'succeed', at('TransIn')],
    ]);
    expect((await api(f.running.url, 'GET', `/v1/transactions/${gid}`)).body).toMatchObject({ mode: 'msg', status: 'committed' });
  });

  it('check-back success (TestMsgTimeoutSuccess): a prepared message past timeout_to_fail asks query_prepared with DTM’s GET and delivers on 200', async () => {
    const { gid, at, path } = fresh();
    expect(await dtmCall(f.dtm, 'prepare', nodeMsg(gid, at, { timeout_to_fail: 1 }))).toMatchObject({ status: 200 });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'succeed', 15_000);
    const calls = f.p.callsTo(undefined, gid);
    expect(calls.map((c) => [c.method, c.path, c.query, c.rawBody])).toEqual([
      ['GET', path('QueryPrepared'), { gid, trans_type: 'msg', branch_id: '00', op: 'msg' }, ''],
      ['POST', path('TransOut'), { gid, trans_type: 'msg', branch_id: '01', op: 'action' }, '{"amount":30}'],
      ['POST', path('TransIn'), { gid, trans_type: 'msg', branch_id: '02', op: 'action' }, '{"amount":30}'],
    ]);
  });

  it('check-back failure (TestMsgTimeoutFailed): FAILURE ends it failed with no action called; rows [prepared, prepared]', async () => {
    const { gid, at, path } = fresh();
    f.p.schedule(path('QueryPrepared'), 'FAILURE');
    expect(await dtmCall(f.dtm, 'prepare', nodeMsg(gid, at, { timeout_to_fail: 1 }))).toMatchObject({ status: 200 });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'failed', 15_000);
    expect(f.p.callsTo(undefined, gid).map((c) => c.path)).toEqual([path('QueryPrepared')]);
    expect(await branchStatuses(f.dtm, gid)).toEqual(['prepared', 'prepared']);
  });

  it('a check-back answering ONGOING or 500 is asked again; a legacy 200 FAILURE body is a failure', async () => {
    const again = fresh();
    f.p.schedule(again.path('QueryPrepared'), 'ONGOING', 'ERROR', 'SUCCESS');
    expect(await dtmCall(f.dtm, 'prepare', nodeMsg(again.gid, again.at, { timeout_to_fail: 1 }))).toMatchObject({ status: 200 });
    await eventually(async () => (await globalStatus(f.dtm, again.gid)) === 'succeed', 15_000);
    expect(f.p.callsTo(again.path('QueryPrepared'))).toHaveLength(3);
    const legacy = fresh();
    f.p.schedule(legacy.path('QueryPrepared'), 'LEGACY_FAILURE');
    expect(await dtmCall(f.dtm, 'prepare', nodeMsg(legacy.gid, legacy.at, { timeout_to_fail: 1 }))).toMatchObject({ status: 200 });
    await eventually(async () => (await globalStatus(f.dtm, legacy.gid)) === 'failed', 15_000);
  });

  it('abnormal (TestMsgAbnormal): an action answering 500 or FAILURE is retried until it succeeds; a message is never compensated', async () => {
    const { gid, at, path } = fresh();
    f.p.schedule(path('TransIn'), 'ERROR', 'FAILURE', 'SUCCESS');
    expect(await dtmCall(f.dtm, 'prepare', nodeMsg(gid, at))).toMatchObject({ status: 200 });
    expect(await dtmCall(f.dtm, 'submit', nodeMsg(gid, at))).toMatchObject({ status: 200 });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'succeed', 15_000);
    expect(f.p.callsTo(path('TransIn'), gid)).toHaveLength(3);
    expect(f.p.callsTo(path('TransOut'), gid)).toHaveLength(1);
  });

  it('concurrent: every action at once; the Python client’s TransBase with its nulls prepares and submits', async () => {
    const { gid, at, path } = fresh();
    f.p.schedule(path('TransOut'), 'HANG', 'SUCCESS');
    const body = pythonClient.transBase(gid, 'msg', {
      steps: [{ action: at('TransOut') }, { action: at('TransIn') }],
      payloads: ['{"amount": 30}', ''],
      query_prepared: at('QueryPrepared'),
      concurrent: true,
      request_timeout: 1,
    });
    expect(await dtmCall(f.dtm, 'prepare', body)).toMatchObject({ status: 200, text: SUCCESS });
    expect(await dtmCall(f.dtm, 'submit', body)).toMatchObject({ status: 200, text: SUCCESS });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'succeed', 15_000);
    const calls = f.p.callsTo(undefined, gid);
    // TransIn answered while TransOut hung: they were sent together, TransOut again after its timeout
    const order = calls.map((c) => c.path);
    expect(order.indexOf(path('TransIn'))).toBeLessThan(order.lastIndexOf(path('TransOut')));
    expect(calls.find((c) => c.path === path('TransIn'))).toMatchObject({ method: 'GET', rawBody: '' });
    expect(calls.filter((c) => c.path === path('TransOut'))).toHaveLength(2);
  });

  it('delay (custom_data {"delay": 2}, as dtmcli-node sends it): the actions are held until two seconds after the prepare', async () => {
    const { gid, at, path } = fresh();
    const t0 = Date.now();
    const body = nodeMsg(gid, at, { custom_data: '{"delay": 2}' });
    expect(await dtmCall(f.dtm, 'prepare', body)).toMatchObject({ status: 200 });
    expect(await dtmCall(f.dtm, 'submit', body)).toMatchObject({ status: 200, text: SUCCESS });
    await new Promise((r) => setTimeout(r, 1000));
    expect(f.p.callsTo(undefined, gid)).toEqual([]);
    expect(await globalStatus(f.dtm, gid)).toBe('submitted');
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'succeed', 15_000);
    const calls = f.p.callsTo(undefined, gid);
    expect(calls.map((c) => c.path)).toEqual([path('TransOut'), path('TransIn')]);
    expect(calls[0]!.at - t0).toBeGreaterThanOrEqual(2000);
  });

  it('abort of a prepared message ends it failed with no call; an abort after submit is 409 (the commit wins)', async () => {
    const a = fresh();
    expect(await dtmCall(f.dtm, 'prepare', nodeMsg(a.gid, a.at))).toMatchObject({ status: 200 });
    expect(await dtmCall(f.dtm, 'abort', { gid: a.gid, trans_type: 'msg' })).toMatchObject({ status: 200, text: SUCCESS });
    expect(await globalStatus(f.dtm, a.gid)).toBe('failed');
    expect(f.p.callsTo(undefined, a.gid)).toEqual([]);
    const b = fresh();
    expect(await dtmCall(f.dtm, 'prepare', nodeMsg(b.gid, b.at))).toMatchObject({ status: 200 });
    expect(await dtmCall(f.dtm, 'submit', nodeMsg(b.gid, b.at))).toMatchObject({ status: 200 });
    expect((await dtmCall(f.dtm, 'abort', { gid: b.gid, trans_type: 'msg' })).status).toBe(409);
    await eventually(async () => (await globalStatus(f.dtm, b.gid)) === 'succeed');
  });

  it('a submit without prepare (dtmcli’s fire-and-forget) delivers at once; one with no query_prepared, a bad delay or a topic step is refused', async () => {
    const { gid, at, path } = fresh();
    expect(await dtmCall(f.dtm, 'submit', nodeMsg(gid, at))).toMatchObject({ status: 200, text: SUCCESS });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'succeed');
    expect(f.p.callsTo(undefined, gid).map((c) => c.path)).toEqual([path('TransOut'), path('TransIn')]);
    // dtmcli-py's fire-and-forget sends query_prepared: null; DTX needs one to check back a message it lost between its begin and its commit
    const bare = fresh();
    const py = await dtmCall(f.dtm, 'submit', pythonClient.transBase(bare.gid, 'msg', { steps: [{ action: bare.at('TransOut') }], payloads: ['{}'] }));
    expect(py.status).toBe(409);
    expect(py.json).toMatchObject({ dtm_result: 'FAILURE', code: 'INVALID_REQUEST' });
    expect(await globalStatus(f.dtm, bare.gid)).toBeUndefined();
    const badDelay = fresh();
    const r = await dtmCall(f.dtm, 'prepare', nodeMsg(badDelay.gid, badDelay.at, { custom_data: '{"delay": "soon"}' }));
    expect(r.status).toBe(409);
    expect(r.json.code).toBe('INVALID_REQUEST');
    const topic = fresh();
    expect((await dtmCall(f.dtm, 'prepare', { ...nodeMsg(topic.gid, topic.at), steps: [{ action: 'topic://orders' }, { action: topic.at('x') }] })).status).toBe(409);
  });
});
