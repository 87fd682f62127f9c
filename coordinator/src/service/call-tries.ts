import { backoffDelayMs, type Json } from '@dtx/protocol';
import type { TryOutcome } from '../core/try-outcome.js';
import type { BranchOrder, BranchRecord } from '../log/records.js';
import type { ParticipantCaller } from '../phase2/participant-caller.js';
import type { Metrics } from '../metrics.js';

export interface TryDeps {
  caller: ParticipantCaller;
  callTimeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  metrics?: Metrics;
}

/**
 * Driven mode's phase 1: call every try (in parallel, or in order stopping at the
 * first failure). A transient failure is retried with backoff while the deadline
 * allows; a business rejection fails the branch at once.
 */
export async function callTries(deps: TryDeps, xid: string, branches: BranchRecord[], order: BranchOrder, deadline: number): Promise<TryOutcome[]> {
  if (order === 'parallel') return Promise.all(branches.map((b) => callTry(deps, xid, b, deadline)));
  const out: TryOutcome[] = [];
  for (const b of branches) {
    const o = await callTry(deps, xid, b, deadline);
    out.push(o);
    if (!o.ok) break;
  }
  return out;
}

async function callTry(deps: TryDeps, xid: string, b: BranchRecord, deadline: number): Promise<TryOutcome> {
  const url = b.tryUrl!;
  const payload = b.payloadJson === null ? undefined : (JSON.parse(b.payloadJson) as Json);
  let lastError: string | undefined;
  for (let attempt = 1; ; attempt++) {
    const left = deadline - deps.now();
    // a backoff that woke past the deadline still reports why the try never succeeded
    if (left <= 0) return fail(b, lastError ? `${lastError}; no time left before the deadline` : 'deadline passed before the try succeeded');
    const answer = await deps.caller.call({
      url,
      attempt,
      timeoutMs: Math.min(b.timeoutMs ?? deps.callTimeoutMs, left),
      body: { xid, branchId: b.branchId, phase: 'try', ...(b.action !== null ? { action: b.action } : {}), payload },
    });
    deps.metrics?.tryCalls.inc({ outcome: answer.kind });
    if (answer.kind === 'ok') {
      return { branchId: b.branchId, ok: true, resultJson: answer.result === undefined ? null : JSON.stringify(answer.result), error: null };
    }
    const error = answer.status === null ? `try ${b.action ?? b.branchId}: ${answer.error} (POST ${url})` : `try ${b.action ?? b.branchId}: ${answer.error}`;
    if (answer.kind === 'rejected') return fail(b, error);
    lastError = error;
    const wait = backoffDelayMs({ baseMs: deps.retryBaseMs, maxMs: deps.retryMaxMs }, attempt, answer.retryAfterMs);
    if (deps.now() + wait >= deadline) return fail(b, `${error}; no time left before the deadline`);
    await deps.sleep(wait);
  }
}

function fail(b: BranchRecord, error: string): TryOutcome {
  return { branchId: b.branchId, ok: false, resultJson: null, error };
}
