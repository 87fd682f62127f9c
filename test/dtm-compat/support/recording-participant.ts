import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One call a DTM-style participant received, exactly as it came. */
export interface RecordedCall {
  method: string;
  /** The path without the query. */
  path: string;
  /** The query parameters (gid, trans_type, branch_id, op, ...). */
  query: Record<string, string>;
  rawBody: string;
  headers: IncomingHttpHeaders;
  /** When it arrived, epoch ms. */
  at: number;
}

/** How a route answers one call: DTM's three results, an error, or no answer at all. */
export type Scheduled = 'SUCCESS' | 'FAILURE' | 'ONGOING' | 'LEGACY_FAILURE' | 'LEGACY_ONGOING' | 'ERROR' | 'HANG';

const ANSWERS: Record<Exclude<Scheduled, 'HANG'>, { status: number; body: string }> = {
  SUCCESS: { status: 200, body: '{"dtm_result":"SUCCESS"}' },
  FAILURE: { status: 409, body: '{"dtm_result":"FAILURE"}' },
  ONGOING: { status: 425, body: '{"dtm_result":"ONGOING"}' },
  // what participants older than DTM 1.10 answer: 200 with the result in the body
  LEGACY_FAILURE: { status: 200, body: '{"dtm_result":"FAILURE"}' },
  LEGACY_ONGOING: { status: 200, body: '{"dtm_result":"ONGOING"}' },
  ERROR: { status: 500, body: '{"error":"boom"}' },
};

/**
 * A real HTTP participant in DTM's style for the compat tests: records every call
 * (method, path, query, raw body, headers, in order) and answers each path from its
 * schedule, one entry per call, the last repeated (SUCCESS when none is set).
 */
export class RecordingParticipant {
  readonly calls: RecordedCall[] = [];
  readonly #schedules = new Map<string, Scheduled[]>();
  readonly #sockets = new Set<Socket>();
  #server: Server | null = null;
  url = '';

  /** Answers to `path`, in order; the last keeps answering. */
  schedule(path: string, ...answers: Scheduled[]): this {
    this.#schedules.set(path, answers);
    return this;
  }

  /** The calls to `path` (all paths when omitted), optionally of one gid. */
  callsTo(path?: string, gid?: string): RecordedCall[] {
    return this.calls.filter((c) => (path === undefined || c.path === path) && (gid === undefined || c.query.gid === gid));
  }

  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const u = new URL(req.url ?? '/', 'http://participant');
        const call: RecordedCall = { method: req.method ?? '', path: u.pathname, query: Object.fromEntries(u.searchParams), rawBody: Buffer.concat(chunks).toString(), headers: req.headers, at: Date.now() };
        this.calls.push(call);
        const list = this.#schedules.get(call.path) ?? ['SUCCESS'];
        const next = list.length > 1 ? list.shift()! : list[0]!;
        if (next === 'HANG') return; // answered by nobody: the caller's timeout
        const a = ANSWERS[next];
        res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body);
      });
    });
    this.#server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
