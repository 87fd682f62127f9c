import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The phases a test participant serves: TCC's, a saga's and a message's (v1.2). */
export type TestPhase = 'try' | 'confirm' | 'cancel' | 'action' | 'compensate' | 'check';
const SERVED: readonly string[] = ['try', 'confirm', 'cancel', 'action', 'compensate', 'check'];

/** One callback a test participant received. */

export interface ReceivedCall {
  action: string;
  phase: TestPhase;
  body: { xid: string; branchId: string; phase: string; payload?: unknown; tryResult?: unknown; results?: Record<string, unknown>; result?: unknown };
  rawBody: string;
  headers: IncomingHttpHeaders;
  at: number;
}

export interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Answer after this long. */
  delayMs?: number;
}

export type Behaviour = (call: ReceivedCall) => Answer | Promise<Answer>;

/**
 * A real HTTP participant for tests: serves `POST /<action>/<phase>`, records
 * every call, and answers as the test says (200 `{}` by default).
 */
export class TestParticipant {
  readonly calls: ReceivedCall[] = [];
  readonly #behaviours = new Map<string, Behaviour>();
  #server: Server | null = null;
  #sockets = new Set<import('node:net').Socket>();
  url = '';

  /** Sets how `<action>/<phase>` (or `*`/<phase>) answers. */
  on(phase: TestPhase, behaviour: Behaviour, action = '*'): this {
    this.#behaviours.set(`${action}/${phase}`, behaviour);
    return this;
  }

  urls(action: string): { tryUrl: string; confirmUrl: string; cancelUrl: string } {
    return { tryUrl: `${this.url}/${action}/try`, confirmUrl: `${this.url}/${action}/confirm`, cancelUrl: `${this.url}/${action}/cancel` };
  }

  /** A message's check-back URL (v1.2): its calls are `callsOf('check')`. */
  get checkUrl(): string {
    return `${this.url}/_msg/check`;
  }

  /** A saga step's URLs for `action` (v1.2). */
  sagaUrls(action: string): { actionUrl: string; compensateUrl: string } {
    return { actionUrl: `${this.url}/${action}/action`, compensateUrl: `${this.url}/${action}/compensate` };
  }

  callsOf(phase: TestPhase, xid?: string): ReceivedCall[] {
    return this.calls.filter((c) => c.phase === phase && (xid === undefined || c.body.xid === xid));
  }

  async start(port = 0): Promise<this> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          const rawBody = Buffer.concat(chunks).toString();
          const [, action = '', phase = ''] = /^\/([^/]+)\/([^/?]+)/.exec(req.url ?? '') ?? [];
          if (req.method !== 'POST' || !SERVED.includes(phase)) {
            res.writeHead(404).end();
            return;
          }
          let body: ReceivedCall['body'];
          try {
            body = JSON.parse(rawBody);
          } catch {
            res.writeHead(400).end();
            return;
          }
          const call: ReceivedCall = { action, phase: phase as ReceivedCall['phase'], body, rawBody, headers: req.headers, at: Date.now() };
          this.calls.push(call);
          const behaviour = this.#behaviours.get(`${action}/${phase}`) ?? this.#behaviours.get(`*/${phase}`);
          let answer: Answer = { status: 200, body: {} };
          try {
            if (behaviour) answer = await behaviour(call);
          } catch {
            answer = { status: 500, body: { error: 'behaviour threw' } };
          }
          if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
          if (res.destroyed) return;
          res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
          res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
        })();
      });
    });
    this.#server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.#server!.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  /** Stops listening and drops open connections (a participant that went down). */
  async close(): Promise<void> {
    if (!this.#server) return;
    const server = this.#server;
    this.#server = null;
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }
}

export async function startParticipant(): Promise<TestParticipant> {
  return new TestParticipant().start();
}
