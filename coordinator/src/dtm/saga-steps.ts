import type { SagaStepRequest } from '@dtx/protocol';
import { failure } from './answers.js';
import { payloadOf, type DtmTrans } from './trans-body.js';

/** DTM's branch id of step `i` (0-based): `01`, `02`, … */
export const stepBranchId = (i: number): string => String(i + 1).padStart(2, '0');

/** A saga's `custom_data`: `{"concurrent": bool, "orders": {"<i>": [j, …]}}` with 0-based step indices. */
interface SagaCustomData {
  concurrent: boolean;
  orders: Record<string, number[]>;
}

function sagaCustomData(text: string | undefined, steps: number): SagaCustomData {
  if (text === undefined) return { concurrent: false, orders: {} };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw failure('custom_data is not JSON', 'INVALID_REQUEST');
  }
  const o = (v ?? {}) as { concurrent?: unknown; orders?: unknown };
  const orders = (o.orders ?? {}) as Record<string, unknown>;
  if (typeof orders !== 'object' || Array.isArray(orders)) throw failure('custom_data.orders must map a step to the steps before it', 'INVALID_REQUEST');
  const index = (x: unknown): number => {
    const n = typeof x === 'string' ? Number(x) : x;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n >= steps) throw failure(`custom_data.orders names step ${JSON.stringify(x)}, not one of the ${steps} steps`, 'INVALID_REQUEST');
    return n;
  };
  const checked: Record<string, number[]> = {};
  for (const [k, list] of Object.entries(orders)) {
    if (!Array.isArray(list)) throw failure('custom_data.orders must map a step to a list of steps', 'INVALID_REQUEST');
    checked[String(index(k))] = list.map(index);
  }
  return { concurrent: o.concurrent === true, orders: checked };
}

/**
 * A DTM saga's steps as DTX saga steps: branch ids `01`, `02`…, the raw payloads, one after
 * another; with `custom_data.concurrent` all at once except as `orders` says (DTX's `after`).
 * An empty URL is DTM's "no call": that action or compensation is done without one.
 */
export function sagaStepRequests(t: DtmTrans, timeoutMs: number): { steps: SagaStepRequest[]; concurrent: boolean } {
  if (t.steps.length === 0) throw failure('a saga needs steps', 'INVALID_REQUEST');
  const custom = sagaCustomData(t.options.custom_data, t.steps.length);
  const steps = t.steps.map((s, i): SagaStepRequest => {
    const payload = payloadOf(t.payloads[i]!);
    return {
      branchId: stepBranchId(i),
      actionUrl: s.action,
      compensateUrl: s.compensate,
      timeoutMs,
      ...(payload !== undefined ? { payload } : {}),
      ...(custom.concurrent ? { after: (custom.orders[String(i)] ?? []).map(stepBranchId) } : {}),
    };
  });
  return { steps, concurrent: custom.concurrent };
}
