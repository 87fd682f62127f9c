import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, eventually } from '../support/http.js';
import { storeKinds } from '../support/services.js';
import { branchStatuses, dtmCall, globalStatus, pythonClient } from './support/dtm-client.js';
import { freshGids, startDtmFixture, type DtmFixture } from './support/dtm-fixture.js';

const SUCCESS = '{"dtm_result":"SUCCESS"}';

/** Sagas through the DTM surface, with the bodies DTM's Node and Python clients send; DTM's TestSaga* cases. */
describe.each(await storeKinds(['sqlite', 'mysql']))('DTM saga on %s', (kind) => {
  let f: DtmFixture;
  beforeAll(async () => {
    f = await startDtmFixture({ kind });
  });
  afterAll(() => f.close());

  const fresh = freshGids(() => f, `saga-${kind}`);

  /** The two-step transfer of DTM's samples, as dtmcli-node sends it. */
  const transfer = (gid: string, at: (n: string) => string, extra: Record<string, unknown> = {}) => ({
    gid,
    trans_type: 'saga',
    steps: [
      { action: at('TransOut'), compensate: at('TransOutCompensate') },
      { action: at('TransIn'), compensate: at('TransInCompensate') },
    ],
    payloads: ['{"amount":30}', '{"amount":30}'],
    ...extra,
  });

  it('normal (TestSagaNormal): actions in order, POST with the raw payload and op=action; rows [prepared,succeed]×2', async () => {
    const { gid, at, path } = fresh();
    expect(await dtmCall(f.dtm, 'submit', transfer(gid, at))).toMatchObject({ status: 200, text: SUCCESS });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'succeed');
    expect(f.p.callsTo(undefined, gid).map((c) => [c.method, c.path, c.query, c.rawBody])).toEqual([
      ['POST', path('TransOut'), { gid, trans_type: 'saga', branch_id: '01', op: 'action' }, '{"amount":30}'],
      ['POST', path('TransIn'), { gid, trans_type: 'saga', branch_id: '02', op: 'action' }, '{"amount":30}'],
    ]);
    expect(await branchStatuses(f.dtm, gid)).toEqual(['prepared', 'succeed', 'prepared', 'succeed']);
    const q = await dtmCall(f.dtm, `query?gid=${gid}`);
    expect(q.json.branches.map((b: any) => [b.branch_id, b.op, b.url])).toEqual([
      ['01', 'compensate', at('TransOutCompensate')], ['01', 'action', at('TransOut')],
      ['02', 'compensate', at('TransInCompensate')], ['02', 'action', at('TransIn')],
    ]);
    expect((await api(f.running.url, 'GET', `/v1/transactions/${gid}`)).body).toMatchObject({ mode: 'saga', status: 'committed' });
  });

  it('rollback (TestSagaRollback): a step answering FAILURE compensates it and the steps before, in reverse; rows [succeed,succeed,succeed,failed]', async () => {
    const { gid, at, path } = fresh();
    f.p.schedule(path('TransIn'), 'FAILURE');
    expect(await dtmCall(f.dtm, 'submit', transfer(gid, at))).toMatchObject({ status: 200, text: SUCCESS });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'failed');
    expect(f.p.callsTo(undefined, gid).map((c) => [c.path, c.query.branch_id, c.query.op])).toEqual([
      [path('TransOut'), '01', 'action'],
      [path('TransIn'), '02', 'action'],
      [path('TransInCompensate'), '02', 'compensate'],
      [path('TransOutCompensate'), '01', 'compensate'],
    ]);
    expect(await branchStatuses(f.dtm, gid)).toEqual(['succeed', 'succeed', 'succeed', 'failed']);
    expect((await dtmCall(f.dtm, `query?gid=${gid}`)).json.transaction.rollback_reason).toMatch(/^action refused: action 02: HTTP 409/);
  });

  it('a legacy participant’s 200 {"dtm_result":"FAILURE"} is a refusal too; a 500 is retried, not a refusal', async () => {
    const { gid, at, path } = fresh();
    f.p.schedule(path('TransOut'), 'ERROR', 'SUCCESS');
    f.p.schedule(path('TransIn'), 'LEGACY_FAILURE');
    expect(await dtmCall(f.dtm, 'submit', transfer(gid, at))).toMatchObject({ status: 200 });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'failed');
    expect(f.p.callsTo(undefined, gid).map((c) => c.path)).toEqual([path('TransOut'), path('TransOut'), path('TransIn'), path('TransInCompensate'), path('TransOutCompensate')]);
  });

  it('ongoing (TestSagaOngoingSucceed): an action answering ONGOING is asked again and the saga succeeds', async () => {
    const { gid, at, path } = fresh();
    f.p.schedule(path('TransOut'), 'ONGOING', 'LEGACY_ONGOING', 'SUCCESS');
    expect(await dtmCall(f.dtm, 'submit', transfer(gid, at))).toMatchObject({ status: 200 });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'succeed');
    expect(f.p.callsTo(path('TransOut'), gid)).toHaveLength(3);
    expect(await branchStatuses(f.dtm, gid)).toEqual(['prepared', 'succeed', 'prepared', 'succeed']);
  });

  it('failed compensation (TestSagaFailed): a compensate answering FAILURE or 500 is retried until it succeeds', async () => {
    const { gid, at, path } = fresh();
    f.p.schedule(path('TransIn'), 'FAILURE');
    f.p.schedule(path('TransOutCompensate'), 'FAILURE', 'ERROR', 'SUCCESS');
    expect(await dtmCall(f.dtm, 'submit', transfer(gid, at))).toMatchObject({ status: 200 });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'failed', 20_000);
    expect(f.p.callsTo(path('TransOutCompensate'), gid)).toHaveLength(3);
    expect(await branchStatuses(f.dtm, gid)).toEqual(['succeed', 'succeed', 'succeed', 'failed']);
  });

  it('concurrent rollback order (TestSagaConRollbackOrder): step 1 after step 0, step 0 fails: step 1 is never called nor compensated; rows [succeed,failed,prepared,prepared]', async () => {
    const { gid, at, path } = fresh();
    f.p.schedule(path('TransOut'), 'FAILURE');
    const body = transfer(gid, at, { custom_data: JSON.stringify({ concurrent: true, orders: { '1': [0] } }) });
    expect(await dtmCall(f.dtm, 'submit', body)).toMatchObject({ status: 200 });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'failed');
    expect(f.p.callsTo(undefined, gid).map((c) => c.path)).toEqual([path('TransOut'), path('TransOutCompensate')]);
    expect(await branchStatuses(f.dtm, gid)).toEqual(['succeed', 'failed', 'prepared', 'prepared']);
    expect((await dtmCall(f.dtm, `query?gid=${gid}`)).json.transaction.concurrent).toBe(true);
  });

  it('concurrent with orders {"2":[0,1]} as dtmcli-node sends it: steps 0 and 1 run side by side, step 2 after both', async () => {
    const { gid, at, path } = fresh();
    f.p.schedule(path('A'), 'HANG');
    const body = {
      gid,
      trans_type: 'saga',
      steps: [{ action: at('A'), compensate: at('Ac') }, { action: at('B'), compensate: at('Bc') }, { action: at('C'), compensate: at('Cc') }],
      payloads: ['{"n":0}', '{"n":1}', '{"n":2}'],
      custom_data: '{"concurrent":true,"orders":{"2":[0,1]}}',
      request_timeout: 1,
    };
    f.p.schedule(path('A'), 'HANG', 'SUCCESS');
    expect(await dtmCall(f.dtm, 'submit', body)).toMatchObject({ status: 200 });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'succeed', 20_000);
    const order = f.p.callsTo(undefined, gid).map((c) => c.path);
    // B answered while A hung; C only after A's retry succeeded
    expect(order.indexOf(path('B'))).toBeLessThan(order.lastIndexOf(path('A')));
    expect(order.at(-1)).toBe(path('C'));
    expect(order.filter((p) => p === path('A'))).toHaveLength(2);
  });

  it('timeout_to_fail (TestSagaOptionsTimeout): an action still ONGOING at the deadline rolls the saga back and the started step is compensated', async () => {
    const { gid, at, path } = fresh();
    f.p.schedule(path('TransOut'), 'ONGOING');
    expect(await dtmCall(f.dtm, 'submit', transfer(gid, at, { timeout_to_fail: 1 }))).toMatchObject({ status: 200 });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'failed', 15_000);
    expect(f.p.callsTo(path('TransOutCompensate'), gid)).toHaveLength(1);
    expect(f.p.callsTo(path('TransIn'), gid)).toHaveLength(0);
    expect((await dtmCall(f.dtm, `query?gid=${gid}`)).json.transaction.rollback_reason).toBe('timeout');
  });

  it('wait_result (TestSagaOptionsNormalWait / RollbackWait): 200 once succeeded, 409 FAILURE once rolled back', async () => {
    const ok = fresh();
    const t0 = Date.now();
    expect(await dtmCall(f.dtm, 'submit', transfer(ok.gid, ok.at, { wait_result: true }))).toMatchObject({ status: 200, text: SUCCESS });
    expect(await globalStatus(f.dtm, ok.gid)).toBe('succeed');
    expect(Date.now() - t0).toBeLessThan(10_000);
    const bad = fresh();
    bad.at('x');
    f.p.schedule(bad.path('TransIn'), 'FAILURE');
    const r = await dtmCall(f.dtm, 'submit', transfer(bad.gid, bad.at, { wait_result: true }));
    expect(r.status).toBe(409);
    expect(r.json.dtm_result).toBe('FAILURE');
    expect(await globalStatus(f.dtm, bad.gid)).toBe('failed');
  });

  it('wait_result while an action is still ONGOING (TestSagaOptionsCommittedOngoingWait): 425 after one round’s time, and the saga goes on to succeed', async () => {
    const { gid, at, path } = fresh();
    f.p.schedule(path('TransIn'), 'ONGOING');
    const t0 = Date.now();
    const r = await dtmCall(f.dtm, 'submit', transfer(gid, at, { wait_result: true, request_timeout: 1 }));
    expect(r.status).toBe(425);
    expect(r.json.dtm_result).toBe('ONGOING');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(3000);
    f.p.schedule(path('TransIn'), 'SUCCESS');
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'succeed');
  });

  it('retry_limit (TestSagaGlobalTransWithRetryLimit): an action erroring past its retry limit rolls the saga back', async () => {
    const { gid, at, path } = fresh();
    f.p.schedule(path('TransOut'), 'ERROR');
    expect(await dtmCall(f.dtm, 'submit', transfer(gid, at, { retry_limit: 2 }))).toMatchObject({ status: 200 });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'failed', 15_000);
    expect(f.p.callsTo(path('TransOut'), gid)).toHaveLength(3);
    expect((await dtmCall(f.dtm, `query?gid=${gid}`)).json.transaction.rollback_reason).toMatch(/RetryCount is greater than RetryLimit, RetryLimit: 2$/);
    const yes = fresh();
    f.p.schedule(yes.path('TransOut'), 'ERROR', 'ERROR', 'SUCCESS');
    expect(await dtmCall(f.dtm, 'submit', transfer(yes.gid, yes.at, { retry_limit: 2 }))).toMatchObject({ status: 200 });
    await eventually(async () => (await globalStatus(f.dtm, yes.gid)) === 'succeed', 15_000);
  });

  it('empty URLs (TestSagaEmptyUrl): an empty action is done without a call, an empty compensate too', async () => {
    const ok = fresh();
    const body = { gid: ok.gid, trans_type: 'saga', steps: [{ action: ok.at('TransOut'), compensate: '' }, { action: '', compensate: ok.at('TransInCompensate') }], payloads: ['{"amount":30}', '{"amount":30}'] };
    expect(await dtmCall(f.dtm, 'submit', body)).toMatchObject({ status: 200, text: SUCCESS });
    await eventually(async () => (await globalStatus(f.dtm, ok.gid)) === 'succeed');
    expect(f.p.callsTo(undefined, ok.gid).map((c) => c.path)).toEqual([ok.path('TransOut')]);
    const bad = fresh();
    f.p.schedule(bad.path('TransIn'), 'FAILURE');
    const failing = { gid: bad.gid, trans_type: 'saga', steps: [{ action: bad.at('TransOut'), compensate: '' }, { action: bad.at('TransIn'), compensate: bad.at('TransInCompensate') }], payloads: ['{}', '{}'] };
    expect(await dtmCall(f.dtm, 'submit', failing)).toMatchObject({ status: 200 });
    await eventually(async () => (await globalStatus(f.dtm, bad.gid)) === 'failed');
    expect(f.p.callsTo(undefined, bad.gid).map((c) => c.path)).toEqual([bad.path('TransOut'), bad.path('TransIn'), bad.path('TransInCompensate')]);
  });

  it('the Python client’s whole TransBase (nulls, zeros, unknown fields) runs; branch_headers and an empty payload (GET) as DTM sends them', async () => {
    const { gid, at, path } = fresh();
    const body = pythonClient.transBase(gid, 'saga', {
      steps: [{ action: at('TransOut'), compensate: at('TransOutCompensate') }, { action: at('TransIn'), compensate: at('TransInCompensate') }],
      payloads: ['{"amount": 30}', ''],
      branch_headers: { 'x-test': 'py' },
    });
    expect(await dtmCall(f.dtm, 'submit', body)).toMatchObject({ status: 200, text: SUCCESS });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'succeed');
    const calls = f.p.callsTo(undefined, gid);
    expect(calls.map((c) => [c.method, c.path, c.rawBody, c.headers['x-test']])).toEqual([
      ['POST', path('TransOut'), '{"amount": 30}', 'py'],
      ['GET', path('TransIn'), '', 'py'],
    ]);
  });

  it('a repeated submit of the same saga is 200 and calls nothing twice; another saga under the same gid is 409', async () => {
    const { gid, at, path } = fresh();
    expect(await dtmCall(f.dtm, 'submit', transfer(gid, at, { wait_result: true }))).toMatchObject({ status: 200 });
    expect(await dtmCall(f.dtm, 'submit', transfer(gid, at))).toMatchObject({ status: 200, text: SUCCESS });
    expect(f.p.callsTo(path('TransOut'), gid)).toHaveLength(1);
    const other = await dtmCall(f.dtm, 'submit', { ...transfer(gid, at), payloads: ['{"amount":31}', '{"amount":31}'] });
    expect(other.status).toBe(409);
    expect(other.json).toMatchObject({ dtm_result: 'FAILURE', code: 'TX_EXISTS' });
  });
});
