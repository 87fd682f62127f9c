import { request } from 'undici';

/** DTM's answer as its clients see it: status, raw text, and the JSON when there is one. */
export interface DtmReply {
  status: number;
  text: string;
  json: any;
}

/** A call to the DTM surface the way DTM's clients make it (JSON body, or a GET with a query). */
export async function dtmCall(base: string, route: string, body?: unknown): Promise<DtmReply> {
  const res = await request(`${base}/api/dtmsvr/${route}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, text, json };
}

/** The rows' statuses of `query`, in order. */
export async function branchStatuses(base: string, gid: string): Promise<string[]> {
  const q = await dtmCall(base, `query?gid=${encodeURIComponent(gid)}`);
  return (q.json.branches as { status: string }[]).map((b) => b.status);
}

export async function globalStatus(base: string, gid: string): Promise<string | undefined> {
  const q = await dtmCall(base, `query?gid=${encodeURIComponent(gid)}`);
  return q.json.transaction?.status;
}

/** The exact bodies dtmcli-node 0.0.12 sends (docs/coming-from-dtm.md; DTM-WIRE.md section 4). */
export const nodeClient = {
  prepareTcc: (gid: string) => ({ gid, trans_type: 'tcc' }),
  registerTccBranch: (gid: string, branchId: string, base: string, data: unknown) => ({
    gid,
    branch_id: branchId,
    trans_type: 'tcc',
    status: 'prepared',
    data: JSON.stringify(data),
    try: `${base}/TransOutTry`,
    confirm: `${base}/TransOutConfirm`,
    cancel: `${base}/TransOutCancel`,
  }),
  submitTcc: (gid: string) => ({ gid, trans_type: 'tcc' }),
  abortTcc: (gid: string) => ({ gid, trans_type: 'tcc' }),
};

/** The exact bodies dtmcli-py 1.7.7 sends: registerBranch with `data` as a string with a space, and for saga/msg the whole TransBase with its nulls. */
export const pythonClient = {
  registerBranch: (gid: string, branchId: string, confirm: string, cancel: string, data: string) => ({
    gid,
    branch_id: branchId,
    trans_type: 'tcc',
    status: 'prepared',
    data,
    confirm,
    cancel,
  }),
  transBase: (gid: string, transType: string, extra: Record<string, unknown> = {}) => ({
    gid,
    trans_type: transType,
    custom_data: null,
    steps: [],
    payloads: [],
    query_prepared: null,
    protocol: null,
    wait_result: false,
    timeout_to_fail: 0,
    request_timeout: 8,
    retry_interval: 0,
    passthrough_headers: [],
    branch_headers: {},
    concurrent: false,
    ...extra,
  }),
};
