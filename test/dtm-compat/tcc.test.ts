import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, eventually } from '../support/http.js';
import { storeKinds } from '../support/services.js';
import { branchStatuses, dtmCall, globalStatus, nodeClient, pythonClient } from './support/dtm-client.js';
import { startDtmFixture, type DtmFixture } from './support/dtm-fixture.js';

const SUCCESS = '{"dtm_result":"SUCCESS"}';

/** TCC through the DTM surface with the bodies DTM's Node and Python clients send; DTM's TestTcc* cases. */
describe.each(await storeKinds(['sqlite', 'mysql']))('DTM TCC on %s', (kind) => {
  let f: DtmFixture;
  beforeAll(async () => {
    f = await startDtmFixture({ kind });
  });
  afterAll(() => f.close());

  async function newGid(): Promise<string> {
    const r = await dtmCall(f.dtm, 'newGid');
    expect(r.status).toBe(200);
    expect(r.json.dtm_result).toBe('SUCCESS');
    expect(r.json.gid).toMatch(/^[A-Za-z0-9]{10,}$/);
    return r.json.gid as string;
  }

  /** prepare and two branches as the Node client registers them. */
  async function prepareTwo(gid: string, body: Record<string, unknown> = nodeClient.prepareTcc(gid)): Promise<void> {
    expect(await dtmCall(f.dtm, 'prepare', body)).toMatchObject({ status: 200, text: SUCCESS });
    for (const [id, amount] of [['01', 30], ['02', 40]] as const) {
      const r = await dtmCall(f.dtm, 'registerTccBranch', nodeClient.registerTccBranch(gid, id, f.p.url, { amount }));
      expect(r).toMatchObject({ status: 200, text: SUCCESS });
    }
  }

  it('normal (TestTccNormal): submit answers 200 SUCCESS, confirms go in reverse registration order with DTM’s query, raw body and method; query rows [prepared,succeed]×2', async () => {
    const gid = await newGid();
    await prepareTwo(gid);
    expect(await dtmCall(f.dtm, 'submit', nodeClient.submitTcc(gid))).toMatchObject({ status: 200, text: SUCCESS });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'succeed');
    const calls = f.p.callsTo(undefined, gid);
    expect(calls.map((c) => [c.method, c.path, c.query, c.rawBody])).toEqual([
      ['POST', '/TransOutConfirm', { gid, trans_type: 'tcc', branch_id: '02', op: 'confirm' }, '{"amount":40}'],
      ['POST', '/TransOutConfirm', { gid, trans_type: 'tcc', branch_id: '01', op: 'confirm' }, '{"amount":30}'],
    ]);
    expect(calls[0]!.headers['content-type']).toBe('application/json');
    expect(Object.keys(calls[0]!.headers).filter((h) => h.startsWith('dtx-'))).toEqual([]);
    expect(await branchStatuses(f.dtm, gid)).toEqual(['prepared', 'succeed', 'prepared', 'succeed']);
    const q = await dtmCall(f.dtm, `query?gid=${gid}`);
    expect(q.json.transaction).toMatchObject({ gid, trans_type: 'tcc', status: 'succeed', protocol: 'http', stuck: false });
    expect(q.json.branches.map((b: any) => [b.branch_id, b.op, b.url])).toEqual([
      ['01', 'cancel', `${f.p.url}/TransOutCancel`],
      ['01', 'confirm', `${f.p.url}/TransOutConfirm`],
      ['02', 'cancel', `${f.p.url}/TransOutCancel`],
      ['02', 'confirm', `${f.p.url}/TransOutConfirm`],
    ]);
    expect(Buffer.from(q.json.branches[0].bin_data, 'base64').toString()).toBe('{"amount":30}');
    // the same transaction in DTX's own API, its gid as the xid
    const v1 = await api(f.running.url, 'GET', `/v1/transactions/${gid}`);
    expect(v1.body).toMatchObject({ xid: gid, mode: 'tcc', status: 'committed', branches: [{ branchId: '01', status: 'confirmed' }, { branchId: '02', status: 'confirmed' }] });
  });

  it('rollback (TestTccRollback) with the Python client’s registerBranch: abort answers 200, cancels in reverse order; rows [succeed,prepared]×2; the raw data keeps its bytes', async () => {
    const gid = await newGid();
    expect(await dtmCall(f.dtm, 'prepare', { gid, trans_type: 'tcc' })).toMatchObject({ status: 200, text: SUCCESS });
    for (const id of ['01', '02']) {
      const r = await dtmCall(f.dtm, 'registerBranch', pythonClient.registerBranch(gid, id, `${f.p.url}/py/confirm`, `${f.p.url}/py/cancel`, '{"amount": 30}'));
      expect(r).toMatchObject({ status: 200, text: SUCCESS });
    }
    expect(await dtmCall(f.dtm, 'abort', { gid, trans_type: 'tcc' })).toMatchObject({ status: 200, text: SUCCESS });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'failed');
    expect(f.p.callsTo(undefined, gid).map((c) => [c.method, c.path, c.query.branch_id, c.query.op, c.rawBody])).toEqual([
      ['POST', '/py/cancel', '02', 'cancel', '{"amount": 30}'],
      ['POST', '/py/cancel', '01', 'cancel', '{"amount": 30}'],
    ]);
    expect(await branchStatuses(f.dtm, gid)).toEqual(['succeed', 'prepared', 'succeed', 'prepared']);
  });

  it('timeout (TestTccTimeout): a prepared TCC past timeout_to_fail is cancelled by recovery and ends failed', async () => {
    const gid = await newGid();
    await prepareTwo(gid, { gid, trans_type: 'tcc', timeout_to_fail: 1 });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'failed', 15_000);
    expect(f.p.callsTo(undefined, gid).map((c) => [c.path, c.query.branch_id, c.query.op])).toEqual([
      ['/TransOutCancel', '02', 'cancel'],
      ['/TransOutCancel', '01', 'cancel'],
    ]);
    const q = await dtmCall(f.dtm, `query?gid=${gid}`);
    expect(q.json.transaction.rollback_reason).toBe('timeout');
    // a registration after the decision is DTM's 409
    const late = await dtmCall(f.dtm, 'registerTccBranch', nodeClient.registerTccBranch(gid, '03', f.p.url, {}));
    expect(late.status).toBe(409);
    expect(late.json).toMatchObject({ dtm_result: 'FAILURE', message: `no trans with gid: ${gid} status: prepared found` });
  });

  it('headers (TestTccHeaders): branch_headers go on every call; an empty payload is a GET with no body', async () => {
    const gid = await newGid();
    expect(await dtmCall(f.dtm, 'prepare', { gid, trans_type: 'tcc', branch_headers: { test_header: 'test' } })).toMatchObject({ status: 200 });
    const reg = { gid, branch_id: '01', trans_type: 'tcc', confirm: `${f.p.url}/h/confirm`, cancel: `${f.p.url}/h/cancel` };
    expect(await dtmCall(f.dtm, 'registerBranch', reg)).toMatchObject({ status: 200, text: SUCCESS });
    expect(await dtmCall(f.dtm, 'submit', { gid, trans_type: 'tcc' })).toMatchObject({ status: 200 });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'succeed');
    const [call] = f.p.callsTo('/h/confirm', gid);
    expect(call).toMatchObject({ method: 'GET', rawBody: '', query: { gid, trans_type: 'tcc', branch_id: '01', op: 'confirm' } });
    expect(call!.headers.test_header).toBe('test');
  });

  it('a confirm that answers 500, ONGOING (425), FAILURE (409) or a legacy 200 FAILURE body is retried until 200; one round stops at the first failure', async () => {
    const gid = await newGid();
    expect(await dtmCall(f.dtm, 'prepare', { gid, trans_type: 'tcc' })).toMatchObject({ status: 200 });
    f.p.schedule(`/r/${gid}/b`, 'ERROR', 'ONGOING', 'FAILURE', 'LEGACY_FAILURE', 'SUCCESS');
    for (const id of ['a', 'b']) {
      const reg = { gid, branch_id: id, trans_type: 'tcc', data: '{}', confirm: `${f.p.url}/r/${gid}/${id}`, cancel: `${f.p.url}/r/${gid}/${id}-cancel` };
      expect(await dtmCall(f.dtm, 'registerBranch', reg)).toMatchObject({ status: 200 });
    }
    expect(await dtmCall(f.dtm, 'submit', { gid, trans_type: 'tcc' })).toMatchObject({ status: 200, text: SUCCESS });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'succeed', 20_000);
    // b (registered last) is confirmed first; a waits until b answered 200
    expect(f.p.callsTo(undefined, gid).map((c) => c.query.branch_id).join('')).toBe('bbbbba');
    expect(await branchStatuses(f.dtm, gid)).toEqual(['prepared', 'succeed', 'prepared', 'succeed']);
    const attempts = await api(f.running.url, 'GET', `/v1/transactions/${gid}/attempts`);
    expect(attempts.body.items.map((a: any) => a.httpStatus)).toEqual([500, 425, 409, 200, 200, 200]);
  });

  it('a confirm that hangs past request_timeout is retried', async () => {
    const gid = await newGid();
    expect(await dtmCall(f.dtm, 'prepare', { gid, trans_type: 'tcc', request_timeout: 1 })).toMatchObject({ status: 200 });
    f.p.schedule(`/hang/${gid}`, 'HANG', 'SUCCESS');
    const reg = { gid, branch_id: '01', trans_type: 'tcc', data: 'x', confirm: `${f.p.url}/hang/${gid}`, cancel: `${f.p.url}/c` };
    expect(await dtmCall(f.dtm, 'registerBranch', reg)).toMatchObject({ status: 200 });
    const t0 = Date.now();
    expect(await dtmCall(f.dtm, 'submit', { gid, trans_type: 'tcc' })).toMatchObject({ status: 200 });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'succeed', 20_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    const attempts = await api(f.running.url, 'GET', `/v1/transactions/${gid}/attempts`);
    expect(attempts.body.items.map((a: any) => [a.httpStatus, a.error?.startsWith('timeout after 1000 ms') ?? null])).toEqual([[null, true], [200, null]]);
  });

  it('wait_result: submit answers after the round, 425 ONGOING while a confirm fails', async () => {
    const gid = await newGid();
    expect(await dtmCall(f.dtm, 'prepare', { gid, trans_type: 'tcc', wait_result: true })).toMatchObject({ status: 200 });
    // DTM's clients send wait_result on every call of the transaction; it is the submit's that counts
    f.p.schedule(`/w/${gid}`, 'ERROR', 'SUCCESS');
    const reg = { gid, branch_id: '01', trans_type: 'tcc', data: '{}', confirm: `${f.p.url}/w/${gid}`, cancel: `${f.p.url}/c` };
    expect(await dtmCall(f.dtm, 'registerBranch', reg)).toMatchObject({ status: 200 });
    const r = await dtmCall(f.dtm, 'submit', { gid, trans_type: 'tcc', wait_result: true });
    expect(r.status).toBe(425);
    expect(r.json.dtm_result).toBe('ONGOING');
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'succeed');
    expect(await dtmCall(f.dtm, 'submit', { gid, trans_type: 'tcc', wait_result: true })).toMatchObject({ status: 200, text: SUCCESS });
  });

  it('the clients’ abort after a submit whose answer was lost is refused with 409: the commit wins', async () => {
    const gid = await newGid();
    await prepareTwo(gid);
    expect(await dtmCall(f.dtm, 'submit', nodeClient.submitTcc(gid))).toMatchObject({ status: 200 });
    const abort = await dtmCall(f.dtm, 'abort', nodeClient.abortTcc(gid));
    expect(abort.status).toBe(409);
    expect(abort.json).toMatchObject({ dtm_result: 'FAILURE', code: 'TX_COMMITTED' });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'succeed');
    expect(f.p.callsTo('/TransOutCancel', gid)).toEqual([]);
  });

  it('repeats: prepare again is 200, the same registration again is 200, another with the same branch_id is 409 (never 500), submit again is 200', async () => {
    const gid = await newGid();
    await prepareTwo(gid);
    expect(await dtmCall(f.dtm, 'prepare', nodeClient.prepareTcc(gid))).toMatchObject({ status: 200, text: SUCCESS });
    expect(await dtmCall(f.dtm, 'registerTccBranch', nodeClient.registerTccBranch(gid, '01', f.p.url, { amount: 30 }))).toMatchObject({ status: 200, text: SUCCESS });
    const other = await dtmCall(f.dtm, 'registerTccBranch', nodeClient.registerTccBranch(gid, '01', f.p.url, { amount: 31 }));
    expect(other.status).toBe(409);
    expect(other.json).toMatchObject({ dtm_result: 'FAILURE', code: 'BRANCH_CONFLICT' });
    expect(await dtmCall(f.dtm, 'submit', nodeClient.submitTcc(gid))).toMatchObject({ status: 200 });
    expect(await dtmCall(f.dtm, 'submit', nodeClient.submitTcc(gid))).toMatchObject({ status: 200, text: SUCCESS });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'succeed');
    expect(f.p.callsTo('/TransOutConfirm', gid)).toHaveLength(2);
    // a prepare of a gid past prepared is DTM's 409
    expect((await dtmCall(f.dtm, 'prepare', nodeClient.prepareTcc(gid))).status).toBe(409);
  });

  it('a submit of an unknown TCC gid saves and finishes it with no branches, as DTM does', async () => {
    const gid = await newGid();
    expect(await dtmCall(f.dtm, 'submit', { gid, trans_type: 'tcc' })).toMatchObject({ status: 200, text: SUCCESS });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'succeed');
  });

  it('XA over HTTP: commit calls in registration order, POST with an empty body, ops commit; rows [prepared,succeed]', async () => {
    const gid = await newGid();
    expect(await dtmCall(f.dtm, 'prepare', { gid, trans_type: 'xa' })).toMatchObject({ status: 200 });
    for (const id of ['01', '02']) {
      expect(await dtmCall(f.dtm, 'registerXaBranch', { gid, branch_id: id, trans_type: 'xa', url: `${f.p.url}/xa/${id}` })).toMatchObject({ status: 200, text: SUCCESS });
    }
    expect(await dtmCall(f.dtm, 'submit', { gid, trans_type: 'xa' })).toMatchObject({ status: 200 });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'succeed');
    expect(f.p.callsTo(undefined, gid).map((c) => [c.method, c.path, c.query.op, c.rawBody])).toEqual([
      ['POST', '/xa/01', 'commit', ''],
      ['POST', '/xa/02', 'commit', ''],
    ]);
    const q = await dtmCall(f.dtm, `query?gid=${gid}`);
    expect(q.json.branches.map((b: any) => [b.branch_id, b.op, b.status])).toEqual([
      ['01', 'rollback', 'prepared'], ['01', 'commit', 'succeed'], ['02', 'rollback', 'prepared'], ['02', 'commit', 'succeed'],
    ]);
    const gid2 = await newGid();
    expect(await dtmCall(f.dtm, 'prepare', { gid: gid2, trans_type: 'xa' })).toMatchObject({ status: 200 });
    expect(await dtmCall(f.dtm, 'registerXaBranch', { gid: gid2, branch_id: '01', trans_type: 'xa', url: `${f.p.url}/xa/01` })).toMatchObject({ status: 200 });
    expect(await dtmCall(f.dtm, 'abort', { gid: gid2, trans_type: 'xa', rollback_reason: 'business said no' })).toMatchObject({ status: 200 });
    await eventually(async () => (await globalStatus(f.dtm, gid2)) === 'failed');
    expect(f.p.callsTo(undefined, gid2).map((c) => [c.method, c.query.op])).toEqual([['POST', 'rollback']]);
    expect((await dtmCall(f.dtm, `query?gid=${gid2}`)).json.transaction.rollback_reason).toBe('business said no');
  });

  it('an empty cancel URL is DTM’s "no call": the abort ends failed with only the other branch cancelled', async () => {
    const gid = await newGid();
    expect(await dtmCall(f.dtm, 'prepare', { gid, trans_type: 'tcc' })).toMatchObject({ status: 200 });
    expect(await dtmCall(f.dtm, 'registerBranch', { gid, branch_id: '01', trans_type: 'tcc', data: '{}', confirm: `${f.p.url}/e/confirm`, cancel: '' })).toMatchObject({ status: 200, text: SUCCESS });
    expect(await dtmCall(f.dtm, 'registerBranch', { gid, branch_id: '02', trans_type: 'tcc', data: '{}', confirm: `${f.p.url}/e/confirm`, cancel: `${f.p.url}/e/cancel` })).toMatchObject({ status: 200 });
    expect(await dtmCall(f.dtm, 'abort', { gid, trans_type: 'tcc' })).toMatchObject({ status: 200 });
    await eventually(async () => (await globalStatus(f.dtm, gid)) === 'failed');
    expect(f.p.callsTo(undefined, gid).map((c) => [c.path, c.query.branch_id])).toEqual([['/e/cancel', '02']]);
    expect(await branchStatuses(f.dtm, gid)).toEqual(['succeed', 'prepared', 'succeed', 'prepared']);
  });

  it('an abort without trans_type is refused (409), as DTM checks the request’s type', async () => {
    const gid = await newGid();
    expect(await dtmCall(f.dtm, 'prepare', { gid, trans_type: 'tcc' })).toMatchObject({ status: 200 });
    const r = await dtmCall(f.dtm, 'abort', { gid });
    expect(r.status).toBe(409);
    expect(r.json.dtm_result).toBe('FAILURE');
    expect(await globalStatus(f.dtm, gid)).toBe('prepared');
  });
});
