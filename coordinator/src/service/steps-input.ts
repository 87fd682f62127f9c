import type { BeginRequest, SagaStepRequest } from '@dtx/protocol';
import { effectiveAfter, topologicalOrder } from '../core/saga-graph.js';
import { InvalidRequestError } from '../errors.js';
import type { BranchRecord } from '../log/records.js';
import { branchRecord, type UrlRules } from './branch-input.js';

/** Most steps a saga or a message may have (PROTOCOL.md v1.2). */
export const MAX_STEPS = 100;

/**
 * Checks the steps of a saga's or a message's begin beyond their JSON schema (1–100
 * steps, unique ids, an `after` graph without unknown steps or cycles, URLs and payloads
 * as for branches; a saga's steps each with a compensateUrl, a message's with none) and
 * turns them into branch records: the action's URL as try_url and confirm_url, a saga's
 * compensation's as cancel_url (a message's is empty: never called), the effective
 * `after` list. Refuses before anything is written.
 */
export function stepRecords(xid: string, mode: 'saga' | 'msg', req: BeginRequest, now: number, options: UrlRules): BranchRecord[] {
  const invalid = (message: string, path: string, detail: string) => new InvalidRequestError(message, [{ path, message: detail }]);
  if (req.branches !== undefined || req.drive !== undefined || req.order !== undefined) {
    throw invalid(`a ${mode} lists steps, not branches`, '/branches', `branches, drive and order are TCC fields: a ${mode} takes steps`);
  }
  const steps: SagaStepRequest[] = req.steps ?? [];
  if (steps.length < 1 || steps.length > MAX_STEPS) throw invalid(`a ${mode} has 1–${MAX_STEPS} steps`, '/steps', `must list 1–${MAX_STEPS} steps`);
  const seen = new Set<string>();
  steps.forEach((s, i) => {
    if (seen.has(s.branchId)) throw invalid(`step ${s.branchId} is listed twice`, `/steps/${i}/branchId`, 'must be unique');
    seen.add(s.branchId);
    if (mode === 'saga' && s.compensateUrl === undefined) throw invalid('a saga step needs a compensateUrl', `/steps/${i}/compensateUrl`, 'is required in a saga');
    if (mode === 'msg' && s.compensateUrl !== undefined) throw invalid('a message step is never compensated', `/steps/${i}/compensateUrl`, 'is not allowed in a message');
  });
  const graph = topologicalOrder(steps);
  if ('problems' in graph) {
    throw new InvalidRequestError('the steps’ after lists do not form a graph that can run', graph.problems.map((p) => ({ path: `/steps/${p.index}/after`, message: p.message })));
  }
  const after = effectiveAfter(steps);
  return steps.map((s, i) => {
    const branch = { branchId: s.branchId, action: s.action, tryUrl: s.actionUrl, confirmUrl: s.actionUrl, cancelUrl: s.compensateUrl ?? s.actionUrl, payload: s.payload, timeoutMs: s.timeoutMs };
    const record = branchRecord(xid, branch, i + 1, now, options, `/steps/${i}`);
    return { ...record, cancelUrl: s.compensateUrl ?? '', afterIds: after[i]! };
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
