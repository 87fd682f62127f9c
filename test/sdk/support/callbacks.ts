import { HEADER_ATTEMPT, HEADER_BRANCH_ID, HEADER_PHASE, HEADER_SIGNATURE, HEADER_XID, newXid, signBody, signCallback, type CallPhase } from '@dtx/protocol';

export interface RawCallback {
  action: string;
  phase: CallPhase;
  xid: string;
  branchId: string;
  payload?: unknown;
  /** A saga compensation's action result, as the coordinator sends it. */
  result?: unknown;
  attempt?: number;
  /** A signature header to send as is; or sign with `secret`, as a coordinator would (for the URL it is sent to, unless `signedFor`). */
  signature?: string;
  secret?: string;
  signedAt?: number;
  signedFor?: string;
  /** Sign as coordinators before v2 did: `t=…,v1=…` only. */
  v1Only?: boolean;
}

/** What a coordinator would send: a raw PROTOCOL.md callback over real HTTP. */
export async function sendCallback(baseUrl: string, cb: RawCallback): Promise<{ status: number; barrier: string | null; body: unknown }> {
  const raw = JSON.stringify({ xid: cb.xid, branchId: cb.branchId, phase: cb.phase, payload: cb.payload, result: cb.result });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    [HEADER_XID]: cb.xid,
    [HEADER_BRANCH_ID]: cb.branchId,
    [HEADER_PHASE]: cb.phase,
    [HEADER_ATTEMPT]: String(cb.attempt ?? 1),
  };
  if (cb.signature !== undefined) headers[HEADER_SIGNATURE] = cb.signature;
  const url = `${baseUrl}/dtx/${cb.action}/${cb.phase}`;
  const at = cb.signedAt ?? Date.now();
  if (cb.signature === undefined && cb.secret !== undefined) {
    headers[HEADER_SIGNATURE] = cb.v1Only ? signBody(cb.secret, raw, at) : signCallback(cb.secret, cb.signedFor ?? url, raw, at);
  }
  const res = await fetch(url, { method: 'POST', headers, body: raw });
  const text = await res.text();
  return { status: res.status, barrier: res.headers.get('dtx-barrier'), body: text ? JSON.parse(text) : undefined };
}

export { newXid };
