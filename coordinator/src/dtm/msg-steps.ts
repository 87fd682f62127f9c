import type { SagaStepRequest } from '@dtx/protocol';
import { failure } from './answers.js';
import { stepBranchId } from './saga-steps.js';
import { payloadOf, type DtmTrans } from './trans-body.js';

/**
 * A DTM message's steps as DTX message steps: branch ids `01`, `02`…, the raw payloads,
 * delivered one after another, or all at once with `concurrent`. `custom_data` may hold
 * `{"delay": seconds}` (dialect.ts deliveryNotBefore); `topic://` steps are refused: not served yet.
 */
export function msgStepRequests(t: DtmTrans, timeoutMs: number): SagaStepRequest[] {
  if (t.steps.length === 0) throw failure('a msg needs steps', 'INVALID_REQUEST');
  if (t.options.custom_data !== undefined) checkDelay(t.options.custom_data);
  return t.steps.map((s, i): SagaStepRequest => {
    if (!s.action) throw failure(`steps[${i}]: an action URL is required`, 'INVALID_REQUEST');
    if (s.action.startsWith('topic://')) throw failure(`steps[${i}]: topics (${s.action}) are not served yet`, 'INVALID_REQUEST');
    const payload = payloadOf(t.payloads[i]!);
    return {
      branchId: stepBranchId(i),
      actionUrl: s.action,
      timeoutMs,
      ...(payload !== undefined ? { payload } : {}),
      ...(t.options.concurrent ? { after: [] } : {}),
    };
  });
}

function checkDelay(text: string): void {
  let v: { delay?: unknown } | null;
  try {
    v = JSON.parse(text) as { delay?: unknown } | null;
  } catch {
    throw failure('custom_data is not JSON', 'INVALID_REQUEST');
  }
  const delay = v?.delay;
  if (delay !== undefined && delay !== null && (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0 || delay > 86_400)) {
    throw failure('custom_data.delay must be 0–86400 seconds', 'INVALID_REQUEST');
  }
}
