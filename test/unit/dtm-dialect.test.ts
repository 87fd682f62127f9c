import { describe, expect, test } from 'vitest';
import { classifyDtmAnswer, dtmOp, dtmWireCall } from '../../coordinator/src/dtm/branch-call.js';
import { deliveryNotBefore } from '../../coordinator/src/dtm/dialect.js';
import { dtmRound } from '../../coordinator/src/dtm/round-order.js';
import { dtmStatus } from '../../coordinator/src/dtm/status.js';

describe('DTM’s branch-call dialect (pure)', () => {
  test.each([
    // status first: 409 failure, 425 ongoing, 200 success unless a legacy dtm_result says otherwise
    ['saga', 'action', 200, '{"dtm_result":"SUCCESS"}', 'ok'],
    ['saga', 'action', 200, 'anything', 'ok'],
    ['saga', 'action', 200, '"FAILURE inside a string is not a result"', 'ok'],
    ['saga', 'action', 200, '{"dtm_result":"FAILURE"}', 'rejected'],
    ['saga', 'action', 409, '', 'rejected'],
    ['saga', 'action', 425, '', 'retry'],
    ['saga', 'action', 200, '{"dtm_result":"ONGOING"}', 'retry'],
    ['saga', 'action', 400, '{"dtm_result":"FAILURE"}', 'retry'],
    ['saga', 'action', 201, '', 'retry'],
    ['saga', 'action', null, '', 'retry'],
    // a failure is final only for a saga action
    ['saga', 'compensate', 409, '', 'retry'],
    ['tcc', 'confirm', 409, '', 'retry'],
    ['tcc', 'cancel', 200, '{"dtm_result":"FAILURE"}', 'retry'],
    ['xa', 'confirm', 204, '', 'retry'],
    ['msg', 'action', 409, '', 'retry'],
    // a message's check-back: FAILURE is final, ONGOING and errors ask again
    ['msg', 'check', 409, '', 'rejected'],
    ['msg', 'check', 200, '{"dtm_result":"FAILURE"}', 'rejected'],
    ['msg', 'check', 425, '', 'retry'],
    ['msg', 'check', 500, '', 'retry'],
    ['msg', 'check', 200, '', 'ok'],
  ] as const)('%s %s answered %s %s is %s', (type, phase, status, text, kind) => {
    expect(classifyDtmAnswer(type, phase, status, text)).toBe(kind);
  });

  test('op names: TCC and saga keep theirs, XA commits and rolls back', () => {
    expect([dtmOp('tcc', 'confirm'), dtmOp('tcc', 'cancel'), dtmOp('xa', 'confirm'), dtmOp('xa', 'cancel'), dtmOp('saga', 'compensate')]).toEqual(['confirm', 'cancel', 'commit', 'rollback', 'compensate']);
  });

  test('the call: query parameters added to the URL’s own, the raw payload POSTed, GET when it is empty (XA always POST), branch_headers', () => {
    const o = { trans_type: 'tcc' as const, branch_headers: { 'x-a': '1' } };
    const call = dtmWireCall(o, { url: 'http://p/confirm?keep=1', xid: 'g1', branchId: '01', phase: 'confirm', payload: '{"amount": 30}' });
    expect(call).toEqual({ method: 'POST', url: 'http://p/confirm?keep=1&gid=g1&trans_type=tcc&branch_id=01&op=confirm', body: '{"amount": 30}', headers: { 'content-type': 'application/json', 'x-a': '1' } });
    expect(dtmWireCall(o, { url: 'http://p/c', xid: 'g1', branchId: '01', phase: 'cancel', payload: undefined })).toMatchObject({ method: 'GET', body: undefined });
    expect(dtmWireCall({ trans_type: 'xa' }, { url: 'http://p/x', xid: 'g', branchId: '01', phase: 'confirm', payload: undefined })).toMatchObject({ method: 'POST', body: '', url: 'http://p/x?gid=g&trans_type=xa&branch_id=01&op=commit' });
    expect(dtmWireCall({ trans_type: 'msg' }, { url: 'http://p/qp', xid: 'g', phase: 'check' })).toMatchObject({ method: 'GET', body: undefined, url: 'http://p/qp?gid=g&trans_type=msg&branch_id=00&op=msg' });
  });

  test('a message’s delay counts from its creation; none without one, or for other types', () => {
    expect(deliveryNotBefore({ trans_type: 'msg', custom_data: '{"delay": 5}' }, 1000)).toBe(6000);
    expect(deliveryNotBefore({ trans_type: 'msg', custom_data: '{"delay": 0}' }, 1000)).toBeNull();
    expect(deliveryNotBefore({ trans_type: 'msg' }, 1000)).toBeNull();
    expect(deliveryNotBefore({ trans_type: 'saga', custom_data: '{"delay": 5}' }, 1000)).toBeNull();
    expect(deliveryNotBefore(null, 1000)).toBeNull();
  });

  test('statuses as DTM names them; a trying saga is already submitted', () => {
    expect(['trying', 'committing', 'rolling_back', 'committed', 'rolled_back'].map((s) => dtmStatus('tcc', s as never))).toEqual(['prepared', 'submitted', 'aborting', 'succeed', 'failed']);
    expect(dtmStatus('saga', 'trying')).toBe('submitted');
  });

  test('round order: TCC one at a time in reverse registration order for both phases, XA forward, others untouched', () => {
    const b = (seq: number) => ({ branchId: `0${seq}`, seq, status: 'registered' as const, afterIds: null, calledAt: null });
    const plan = { phase: 'confirm' as const, pending: [b(1), b(2), b(3)], order: 'parallel' as const };
    expect(dtmRound({ trans_type: 'tcc' }, plan)).toMatchObject({ order: 'sequential', pending: [b(3), b(2), b(1)] });
    expect(dtmRound({ trans_type: 'tcc' }, { ...plan, phase: 'cancel' }).pending.map((x) => x.seq)).toEqual([3, 2, 1]);
    expect(dtmRound({ trans_type: 'xa' }, { ...plan, pending: [b(2), b(1)] })).toMatchObject({ order: 'sequential', pending: [b(1), b(2)] });
    expect(dtmRound(null, plan)).toBe(plan);
  });
});
