import { HEADER_PHASE, HEADER_ATTEMPT, HEADER_BRANCH_ID, HEADER_XID, isBranchId, isXid, MSG_BRANCH_ID, type CallbackBody } from '@dtx/protocol';
import type { IncomingHttpHeaders } from 'node:http';
import { InvalidCallbackError } from '../errors.js';

/** Reads and checks a callback body against the phase its URL names. */
export function parseCallback(raw: Buffer | undefined, route: { action: string; phase: CallbackBody['phase'] }, headers: IncomingHttpHeaders): { body: CallbackBody; attempt: number } {
  const { phase } = route;
  const b = jsonObject(raw);
  if (!isXid(b.xid)) throw new InvalidCallbackError('xid is missing or invalid');
  if (!isBranchId(b.branchId)) throw new InvalidCallbackError('branchId is missing or invalid');
  if (b.phase !== undefined && b.phase !== phase) throw new InvalidCallbackError(`body phase ${String(b.phase)} does not match the URL's ${phase}`);
  // A signed body names its action (v1.1): replayed to another action's route, it is refused.
  if (b.action !== undefined && b.action !== route.action) throw new InvalidCallbackError(`body action ${String(b.action)} does not match the URL's ${route.action}`);
  for (const [name, value] of [[HEADER_XID, b.xid], [HEADER_BRANCH_ID, b.branchId], [HEADER_PHASE, phase]] as const) {
    const header = headers[name];
    if (header !== undefined && header !== value) throw new InvalidCallbackError(`header ${name} does not match the body`);
  }
  const attemptHeader = headers[HEADER_ATTEMPT];
  const attempt = attemptHeader === undefined ? 1 : Number(attemptHeader);
  if (!Number.isSafeInteger(attempt) || attempt < 1) throw new InvalidCallbackError(`${HEADER_ATTEMPT} must be a positive integer`);
  const body: CallbackBody = { xid: b.xid, branchId: b.branchId, phase, ...(b.action !== undefined ? { action: route.action } : {}), payload: b.payload as CallbackBody['payload'] };
  if (b.tryResult !== undefined) body.tryResult = b.tryResult as CallbackBody['tryResult'];
  // a saga action's earlier results, and a compensation's own action result (v1.2)
  if (phase === 'action' && b.results !== undefined) {
    if (typeof b.results !== 'object' || b.results === null || Array.isArray(b.results)) throw new InvalidCallbackError('results must be a JSON object');
    body.results = b.results as CallbackBody['results'];
  }
  if (phase === 'compensate' && b.result !== undefined) body.result = b.result as CallbackBody['result'];
  return { body, attempt };
}

/** Reads and checks a message's check-back body (PROTOCOL.md v1.2): `{ xid, phase: "check" }`. */
export function parseCheck(raw: Buffer | undefined, headers: IncomingHttpHeaders): { xid: string } {
  const b = jsonObject(raw);
  if (!isXid(b.xid)) throw new InvalidCallbackError('xid is missing or invalid');
  if (b.phase !== undefined && b.phase !== 'check') throw new InvalidCallbackError(`body phase ${String(b.phase)} is not check`);
  for (const [name, value] of [[HEADER_XID, b.xid], [HEADER_PHASE, 'check'], [HEADER_BRANCH_ID, MSG_BRANCH_ID]] as const) {
    const header = headers[name];
    if (header !== undefined && header !== value) throw new InvalidCallbackError(`header ${name} does not match the body`);
  }
  return { xid: b.xid };
}

function jsonObject(raw: Buffer | undefined): Record<string, unknown> {
  if (!raw || raw.length === 0) throw new InvalidCallbackError('a callback needs a JSON body');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new InvalidCallbackError('the callback body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidCallbackError('the callback body must be a JSON object');
  return parsed as Record<string, unknown>;
}
