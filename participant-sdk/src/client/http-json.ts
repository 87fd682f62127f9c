import { Agent, request, type Dispatcher } from 'undici';

export interface JsonAnswer {
  status: number;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * One keep-alive pool per client, closed with it. Answers carry status and parsed JSON
 * body (undefined when empty); connection errors and timeouts throw.
 */
export class JsonHttp {
  readonly agent: Dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: 64 });

  async send(method: 'GET' | 'POST', url: string, opts: { body?: string; headers?: Record<string, string>; timeoutMs: number }): Promise<JsonAnswer> {
    const res = await request(url, {
      method,
      dispatcher: this.agent,
      headers: { accept: 'application/json', ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
      body: opts.body,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      // A hard bound, connect included: a try must not outlive its transaction's deadline.
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    const text = await res.body.text();
    let body: unknown;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    return { status: res.statusCode, body, headers: res.headers };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
