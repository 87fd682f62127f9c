import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';

/** A request the front holds: received, never forwarded, never answered. */
export interface HeldRequest {
  method: string;
  url: string;
  body: string;
}

export interface CoordinatorFront {
  readonly url: string;
  /** Requests held so far. */
  readonly held: HeldRequest[];
  /** From now on, hold the requests this matches (e.g. a commit) instead of forwarding them. */
  holdWhen(match: (r: HeldRequest) => boolean): void;
  close(): Promise<void>;
}

/**
 * A real HTTP hop in front of a coordinator that forwards everything, except requests the
 * test chooses to hold: so an initiator can be stopped right at one of its calls (a commit
 * that never lands) without a hook in the code under test.
 */
export async function startCoordinatorFront(upstream: string): Promise<CoordinatorFront> {
  const held: HeldRequest[] = [];
  let match: (r: HeldRequest) => boolean = () => false;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const r: HeldRequest = { method: req.method ?? 'GET', url: req.url ?? '/', body: await readBody(req) };
      if (match(r)) {
        held.push(r);
        return;
      }
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (req.headers.authorization) headers.authorization = req.headers.authorization;
      const answer = await request(`${upstream}${r.url}`, { method: r.method as 'POST', headers, body: r.body || undefined });
      res.writeHead(answer.statusCode, { 'content-type': 'application/json' });
      res.end(await answer.body.text());
    })().catch(() => res.destroy());
  });
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held,
    holdWhen(m) {
      match = m;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString()));
    req.on('error', reject);
  });
}
