// A TCC participant that does nothing: every POST /dtx/<action>/<phase> answers 200 {}.
// The same process serves the bare baseline and the DTX scenarios, so the ratio
// measures the coordinator, not the participant. The drain scenario stages an
// outage with POST /control {"confirms":"fail"} (every confirm answers 503 from
// then on) and heals it with {"confirms":"ok"}.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

let confirmsFail = false;
const DOWN = '{"error":"confirms are down (bench drain scenario)"}';

function control(req: IncomingMessage, res: ServerResponse): void {
  let raw = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => (raw += chunk));
  req.on('end', () => {
    let asked: unknown;
    try {
      asked = (JSON.parse(raw || '{}') as { confirms?: unknown }).confirms;
    } catch {
      /* answered 400 below */
    }
    if (asked !== 'fail' && asked !== 'ok') return void res.writeHead(400).end('body must be {"confirms":"fail"} or {"confirms":"ok"}');
    confirmsFail = asked === 'fail';
    res.writeHead(204).end();
  });
}

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/control') return control(req, res);
  req.resume();
  req.on('end', () => {
    if (req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    if (confirmsFail && req.url?.endsWith('/confirm')) {
      res.writeHead(503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(DOWN) }).end(DOWN);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' });
    res.end('{}');
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`noop participant listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
