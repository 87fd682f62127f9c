import { describe, expect, test } from 'vitest';
import { branchRecord } from '../support/records.js';
import type { CallAnswer, CallRequest, ParticipantCaller } from '../../coordinator/src/phase2/participant-caller.js';
import { callTries } from '../../coordinator/src/service/call-tries.js';

// Driven mode's tries on a fake clock: the caller is the unit's collaborator, not the thing under test.
const branch = branchRecord('x', 'a', { now: 0, action: 'w.debit', tryUrl: 'http://127.0.0.1:1/w.debit/try', payloadJson: '{"amount":1}' });

function always(answer: CallAnswer): ParticipantCaller & { calls: CallRequest[] } {
  const calls: CallRequest[] = [];
  return { calls, call: async (req) => (calls.push(req), answer), close: async () => {} };
}

describe('callTries', () => {
  const unavailable: CallAnswer = { kind: 'retry', status: 503, retryAfterMs: null, error: 'HTTP 503' };

  test('a transient failure is retried with backoff until the deadline, and the failure says why', async () => {
    let now = 0;
    const caller = always(unavailable);
    const [out] = await callTries({ caller, callTimeoutMs: 1000, retryBaseMs: 100, retryMaxMs: 400, now: () => now, sleep: async (ms) => void (now += ms) }, 'x', [branch], 'parallel', 2000);
    expect(out).toMatchObject({ ok: false });
    expect(out!.error).toMatch(/HTTP 503; no time left before the deadline/);
    expect(caller.calls.length).toBeGreaterThan(3);
    expect(caller.calls.map((c) => c.attempt)).toEqual(caller.calls.map((_, i) => i + 1));
  });

  test('a backoff timer that fires late, past the deadline, still reports the last error', async () => {
    let now = 0;
    const caller = always(unavailable);
    // every sleep overshoots the deadline, as a late timer on a busy machine does
    const [out] = await callTries({ caller, callTimeoutMs: 1000, retryBaseMs: 100, retryMaxMs: 400, now: () => now, sleep: async () => void (now = 5000) }, 'x', [branch], 'parallel', 2000);
    expect(caller.calls).toHaveLength(1);
    expect(out!.error).toMatch(/HTTP 503/);
  });

  test('a last call the deadline cut short and that timed out still reports the error before it', async () => {
    let now = 0;
    const calls: CallRequest[] = [];
    // 503 at once while there is time; the call sent with what is left of it times out, as on a busy machine
    const caller: ParticipantCaller = {
      call: async (req) => {
        calls.push(req);
        if (req.timeoutMs >= 1000) return unavailable;
        now += req.timeoutMs;
        return { kind: 'retry', status: null, retryAfterMs: null, error: `timeout after ${req.timeoutMs} ms` };
      },
      close: async () => {},
    };
    const [out] = await callTries({ caller, callTimeoutMs: 1000, retryBaseMs: 100, retryMaxMs: 400, now: () => now, sleep: async (ms) => void (now += ms) }, 'x', [branch], 'parallel', 1150);
    expect(calls.at(-1)!.timeoutMs).toBeLessThan(1000);
    expect(out!.error).toMatch(/HTTP 503; no time left before the deadline/);
  });

  test('a business rejection fails at once, without retries', async () => {
    const caller = always({ kind: 'rejected', status: 409, retryAfterMs: null, error: 'HTTP 409 insufficient balance' });
    const [out] = await callTries({ caller, callTimeoutMs: 1000, retryBaseMs: 100, retryMaxMs: 400, now: () => 0, sleep: async () => {} }, 'x', [branch], 'parallel', 2000);
    expect(caller.calls).toHaveLength(1);
    expect(out!.error).toMatch(/HTTP 409 insufficient balance/);
  });
});
