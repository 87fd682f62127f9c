import { backoffDelayMs, type Json } from '@dtx/protocol';
import { ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import { roundLeaseMs } from '../core/round-lease.js';
import type { TryOutcome } from '../core/try-outcome.js';
import { ATTEMPTS_KEPT_LATEST, type AttemptRecord } from '../log/attempt-records.js';
import type { DtxLogger } from '../logger.js';
import type { BranchOrder, BranchRecord } from '../log/records.js';
import type { ParticipantCaller } from '../phase2/participant-caller.js';
import type { Metrics } from '../metrics.js';
import { tracedCall } from '../phase2/traced-call.js';

export interface TryDeps {
  caller: ParticipantCaller;
  callTimeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Before a try is retried: keep holding the tries until `untilMs` (driven mode's hold; a repeat waits it out). */
  holdUntil?: (untilMs: number) => Promise<void>;
  metrics?: Metrics;
  logger?: DtxLogger;
}

/** A try's outcome, with the calls it took (for the attempt history: its first and latest ones). */
export type DrivenTry = TryOutcome & { calls: AttemptRecord[] };

/**
 * Driven mode's phase 1: call every try (in parallel, or in order stopping at the
 * first failure). A transient failure is retried with backoff while the deadline
 * allows; a business rejection fails the branch at once. Each call is a span under `parent`.
 */
export async function callTries(deps: TryDeps, xid: string, branches: BranchRecord[], order: BranchOrder, deadline: number, parent: Context = ROOT_CONTEXT): Promise<DrivenTry[]> {
  if (order === 'parallel') return Promise.all(branches.map((b) => callTry(deps, xid, b, deadline, parent)));
  const out: DrivenTry[] = [];
  for (const b of branches) {
    const o = await callTry(deps, xid, b, deadline, parent);
    out.push(o);
    if (!o.ok) break;
  }
  return out;
}

async function callTry(deps: TryDeps, xid: string, b: BranchRecord, deadline: number, parent: Context): Promise<DrivenTry> {
  const url = b.tryUrl!;
  const payload = b.payloadJson === null ? undefined : (JSON.parse(b.payloadJson) as Json);
  const calls: AttemptRecord[] = [];
  const fail = (error: string): DrivenTry => ({ branchId: b.branchId, ok: false, resultJson: null, error, calls });
  let lastError: string | undefined;
  for (let attempt = 1; ; attempt++) {
    const left = deadline - deps.now();
    // a backoff that woke past the deadline still reports why the try never succeeded
    if (left <= 0) return fail(lastError ? `${lastError}; no time left before the deadline` : 'deadline passed before the try succeeded');
    const cutByDeadline = left < (b.timeoutMs ?? deps.callTimeoutMs);
    const request = { url, attempt, timeoutMs: Math.min(b.timeoutMs ?? deps.callTimeoutMs, left), body: { xid, branchId: b.branchId, phase: 'try' as const, ...(b.action !== null ? { action: b.action } : {}), payload } };
    const { answer, record } = await tracedCall(deps, request, b.action, parent);
    calls.push(record);
    if (calls.length > ATTEMPTS_KEPT_LATEST + 1) calls.splice(1, 1); // the first and the latest are kept
    deps.metrics?.tryCalls.inc({ outcome: answer.kind });
    if (answer.kind === 'ok') {
      return { branchId: b.branchId, ok: true, resultJson: answer.result === undefined ? null : JSON.stringify(answer.result), error: null, calls };
    }
    const error = answer.status === null ? `try ${b.action ?? b.branchId}: ${answer.error} (POST ${url})` : `try ${b.action ?? b.branchId}: ${answer.error}`;
    if (answer.kind === 'rejected') return fail(error);
    // a call the deadline cut short ran out of time, not into a new error: report the one before it
    if (cutByDeadline && answer.status === null) return fail(`${lastError ?? error}; no time left before the deadline`);
    lastError = error;
    const wait = backoffDelayMs({ baseMs: deps.retryBaseMs, maxMs: deps.retryMaxMs }, attempt, answer.retryAfterMs);
    if (deps.now() + wait >= deadline) return fail(`${error}; no time left before the deadline`);
    await deps.holdUntil?.(deps.now() + wait + roundLeaseMs([b.timeoutMs ?? deps.callTimeoutMs], 'parallel'));
    await deps.sleep(wait);
  }
}
