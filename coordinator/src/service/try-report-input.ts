import type { TryReportBody } from '@dtx/protocol';
import { LIMITS } from '../config/options.js';
import { canonicalJson } from '../core/canonical-json.js';
import type { TryOutcome } from '../core/try-outcome.js';
import { PayloadTooLargeError } from '../errors.js';

/** An initiator's report of one try (a try-result call, or an entry of a commit's `tryResults`) as the log records it; refuses a result over the payload limit. */
export function tryOutcome(branchId: string, body: TryReportBody): TryOutcome {
  if (!body.ok) return { branchId, ok: false, resultJson: null, error: body.error ?? 'try failed' };
  const resultJson = body.result === undefined ? null : canonicalJson(body.result);
  if (resultJson !== null && Buffer.byteLength(resultJson) > LIMITS.payloadBytes) throw new PayloadTooLargeError(`branch ${branchId} try result`, LIMITS.payloadBytes);
  return { branchId, ok: true, resultJson, error: null };
}
