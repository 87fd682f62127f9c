import { signCallback } from './signature.js';
import type { CallPhase } from './types.js';

/** Header names of participant callbacks (PROTOCOL.md "Participant callbacks"). */
export const HEADER_XID = 'dtx-xid';
export const HEADER_BRANCH_ID = 'dtx-branch-id';
export const HEADER_PHASE = 'dtx-phase';
export const HEADER_ATTEMPT = 'dtx-attempt';
export const HEADER_SIGNATURE = 'dtx-signature';

/** The SDK serves each action at `POST <prefix>/<action>/<phase>`. */
export const DEFAULT_CALLBACK_PREFIX = '/dtx';

/**
 * The headers of one callback: who it is for, the 1-based attempt, and with a
 * secret the signature of `rawBody` (the exact text sent) bound to `url`, where it is
 * sent. The coordinator's confirm/cancel and the SDK's try build them here, so the two
 * cannot drift.
 */
export function callbackHeaders(
  to: { xid: string; branchId: string; phase: CallPhase },
  attempt: number,
  rawBody: string,
  signing?: { secret: string; url: string },
): Record<string, string> {
  const headers: Record<string, string> = {
    [HEADER_XID]: to.xid,
    [HEADER_BRANCH_ID]: to.branchId,
    [HEADER_PHASE]: to.phase,
    [HEADER_ATTEMPT]: String(attempt),
  };
  if (signing !== undefined) headers[HEADER_SIGNATURE] = signCallback(signing.secret, signing.url, rawBody);
  return headers;
}
