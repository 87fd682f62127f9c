import { backoffDelayMs, type Json } from '@dtx/protocol';
import type { Context } from '@opentelemetry/api';
import { ATTEMPTS_KEPT_LATEST, type AttemptRecord } from '../log/attempt-records.js';
import { parseJson, type BranchRecord } from '../log/records.js';
import type { Phase2Deps } from '../phase2/run-phase2.js';
import { tracedCall } from '../phase2/traced-call.js';
import type { DtmOptions } from '../dtm/dialect.js';

/** How a step's action ended: done (2xx), refused by the business (409, 422, another 4xx), or out of time. */
export type StepRun =
  | { branchId: string; kind: 'done'; resultJson: string | null; calls: AttemptRecord[] }
  | { branchId: string; kind: 'refused' | 'timeout' | 'stopped'; error: string; calls: AttemptRecord[] };

export interface StepCall {
  xid: string;
  step: BranchRecord;
  /** The finished earlier steps' results, by branchId. */
  results: Record<string, Json>;
  deadline: number;
  parent: Context;
  /** Before a retry's wait: hold the saga through the wait and the next call; false: the saga is no longer trying. */
  hold: (until: number) => Promise<boolean>;
  sleep: (ms: number) => Promise<void>;
  /** A saga begun through the DTM-compatible surface: called in DTM's dialect, and refused past its `retry_limit`. */
  dtm?: DtmOptions | null;
}

/**
 * Calls one saga action (PROTOCOL.md v1.2) until it answers for good: 2xx, a refusal,
 * or the deadline; a transient failure (5xx, 408, 429, timeout, no answer) is retried
 * with backoff. Each call is a span and an attempt record, as driven tries are.
 */
export async function callStep(deps: Phase2Deps, c: StepCall): Promise<StepRun> {
  const b = c.step;
  const url = b.tryUrl!;
  const timeoutMs = b.timeoutMs ?? deps.options.callTimeoutMs;
  const calls: AttemptRecord[] = [];
  const end = (kind: 'refused' | 'timeout' | 'stopped', error: string): StepRun => ({ branchId: b.branchId, kind, error, calls });
  let lastError: string | null = null;
  for (let attempt = 1; ; attempt++) {
    const left = c.deadline - deps.now();
    if (left <= 0) return end('timeout', lastError ? `${lastError}; no time left before the deadline` : 'deadline passed before the action succeeded');
    const body = { xid: c.xid, branchId: b.branchId, phase: 'action' as const, ...(b.action !== null ? { action: b.action } : {}), payload: parseJson(b.payloadJson), results: c.results };
    const { answer, record } = await tracedCall(deps, { url, attempt, timeoutMs: Math.min(timeoutMs, left), body, dtm: c.dtm }, b.action, c.parent);
    calls.push(record);
    if (calls.length > ATTEMPTS_KEPT_LATEST + 1) calls.splice(1, 1); // the first and the latest are kept
    deps.metrics?.tryCalls.inc({ outcome: answer.kind });
    if (answer.kind === 'ok') return { branchId: b.branchId, kind: 'done', resultJson: answer.result === undefined ? null : JSON.stringify(answer.result), calls };
    const error = `action ${b.action ?? b.branchId}: ${answer.error ?? 'failed'}${answer.status === null ? ` (POST ${url})` : ''}`;
    if (answer.kind === 'rejected') return end('refused', error);
    const limit = c.dtm?.retry_limit;
    if (limit !== undefined && attempt > limit) return end('refused', `${error}; RetryCount is greater than RetryLimit, RetryLimit: ${limit}`);
    lastError = error;
    const wait = backoffDelayMs({ baseMs: deps.options.retryBaseMs, maxMs: deps.options.retryMaxMs }, attempt, answer.retryAfterMs);
    if (deps.now() + wait >= c.deadline) return end('timeout', `${error}; no time left before the deadline`);
    if (!(await c.hold(deps.now() + wait + timeoutMs + HOLD_MARGIN_MS))) return end('stopped', error);
    await c.sleep(wait);
  }
}

/** Beyond a step's call, the time its driver keeps for the write that records it. */
export const HOLD_MARGIN_MS = 4000;
