// The coordinator's /v1 API, with the bearer token when one was given.
const TOKEN_KEY = 'dtx-token';

export class Unauthorized extends Error {}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (t) => sessionStorage.setItem(TOKEN_KEY, t),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

const BASE = new URL('../v1/', location.href);

/** The answer's JSON and headers; 401 throws Unauthorized, any other error status an Error with its code. */
async function request(method, path, body) {
  const headers = { accept: 'application/json' };
  const t = token.get();
  if (t) headers.authorization = `Bearer ${t}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(new URL(path, BASE), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401) throw new Unauthorized();
  const text = await res.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const e = new Error(json?.error?.message ?? `HTTP ${res.status}`);
    e.status = res.status;
    e.code = json?.error?.code;
    throw e;
  }
  return { json, headers: res.headers };
}

export const api = async (method, path, body) => (await request(method, path, body)).json;

export const listTransactions = (q) => api('GET', `transactions?${new URLSearchParams(q)}`);
/** A transaction, with the trace id its callbacks carry (the dtx-trace-id response header). */
export async function getTransaction(xid) {
  const { json, headers } = await request('GET', `transactions/${encodeURIComponent(xid)}`);
  return { ...json, traceId: headers.get('dtx-trace-id') };
}
export const getAttempts = (xid) => api('GET', `transactions/${encodeURIComponent(xid)}/attempts`);
export const retryTransaction = (xid) => api('POST', `transactions/${encodeURIComponent(xid)}/retry`, {});
