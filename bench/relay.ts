// The `relay` scenario's server: what any single-process Node coordinator must at
// least do for a driven transaction, and nothing more. POST /v1/transactions calls
// both tries (in parallel), then both confirms, and answers committed: the same
// one request in and four calls out as `driven`, with the coordinator's undici
// Agent settings, but no fastify, no validation and no log. Its tx/s is the
// ceiling for `driven` on this machine (bench/README.md).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';

interface Branch {
  branchId: string;
  tryUrl: string;
  confirmUrl: string;
  payload?: unknown;
}

const agent = new Agent({ keepAliveTimeout: 30_000, connections: 64, pipelining: 1 });
let seq = 0;

async function call(url: string, body: unknown): Promise<void> {
  const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), dispatcher: agent });
  await res.body.text();
  if (res.statusCode > 299) throw new Error(`POST ${url}: HTTP ${res.statusCode}`);
}

async function relay(raw: string): Promise<{ xid: string; status: string }> {
  const { branches } = JSON.parse(raw) as { branches: Branch[] };
  const xid = `relay-${process.pid}-${seq++}`;
  await Promise.all(branches.map((b) => call(b.tryUrl, { xid, branchId: b.branchId, phase: 'try', payload: b.payload })));
  await Promise.all(branches.map((b) => call(b.confirmUrl, { xid, branchId: b.branchId, phase: 'confirm', payload: b.payload })));
  return { xid, status: 'committed' };
}

const server = createServer((req, res) => {
  let raw = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => (raw += chunk));
  req.on('end', () => {
    relay(raw).then(
      (answer) => {
        const out = JSON.stringify(answer);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) }).end(out);
      },
      (err: Error) => res.writeHead(502, { 'content-type': 'text/plain' }).end(err.message),
    );
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => console.log(`relay listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`));
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
