import type { BeginRequest, SagaStepRequest } from '@dtx/protocol';
import type { ResolvedOptions } from '../config/options.js';
import { effectiveAfter, topologicalOrder } from '../core/saga-graph.js';
import { InvalidRequestError } from '../errors.js';
import type { BranchRecord } from '../log/records.js';
import { branchRecord } from './branch-input.js';

/** Most steps a saga may have (PROTOCOL.md v1.2). */
export const MAX_SAGA_STEPS = 100;

/**
 * Checks a saga's begin beyond its JSON schema (1–100 steps, unique ids, an `after`
 * graph without unknown steps or cycles, URLs and payloads as for branches) and turns
 * its steps into branch records: the action's URL as try_url (and confirm_url), the
 * compensation's as cancel_url, the effective `after` list. Refuses before anything is written.
 */
export function sagaSteps(xid: string, req: BeginRequest, now: number, options: Pick<ResolvedOptions, 'allowedOrigins'>): BranchRecord[] {
  const invalid = (message: string, path: string, detail: string) => new InvalidRequestError(message, [{ path, message: detail }]);
  if (req.branches !== undefined || req.drive !== undefined || req.order !== undefined) {
    throw invalid('a saga lists steps, not branches', '/branches', 'branches, drive and order are TCC fields: a saga takes steps');
  }
  const steps: SagaStepRequest[] = req.steps ?? [];
  if (steps.length < 1 || steps.length > MAX_SAGA_STEPS) throw invalid(`a saga has 1–${MAX_SAGA_STEPS} steps`, '/steps', `must list 1–${MAX_SAGA_STEPS} steps`);
  const seen = new Set<string>();
  steps.forEach((s, i) => {
    if (seen.has(s.branchId)) throw invalid(`step ${s.branchId} is listed twice`, `/steps/${i}/branchId`, 'must be unique');
    seen.add(s.branchId);
  });
  const graph = topologicalOrder(steps);
  if ('problems' in graph) {
    throw new InvalidRequestError('the steps’ after lists do not form a graph that can run', graph.problems.map((p) => ({ path: `/steps/${p.index}/after`, message: p.message })));
  }
  const after = effectiveAfter(steps);
  return steps.map((s, i) => {
    const branch = { branchId: s.branchId, action: s.action, tryUrl: s.actionUrl, confirmUrl: s.actionUrl, cancelUrl: s.compensateUrl, payload: s.payload, timeoutMs: s.timeoutMs };
    return { ...branchRecord(xid, branch, i + 1, now, options, `/steps/${i}`), afterIds: after[i]! };
  });
}

/** A repeated begin lists the same steps as the logged ones. */
export function sameSteps(logged: readonly BranchRecord[], sent: readonly BranchRecord[]): boolean {
  if (logged.length !== sent.length) return false;
  return sent.every((s, i) => {
    const l = logged[i]!;
    return (
      l.branchId === s.branchId && l.action === s.action && l.tryUrl === s.tryUrl && l.cancelUrl === s.cancelUrl &&
      l.payloadJson === s.payloadJson && l.timeoutMs === s.timeoutMs && JSON.stringify(l.afterIds) === JSON.stringify(s.afterIds)
    );
  });
}
