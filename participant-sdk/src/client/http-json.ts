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
    // A hard bound, connect included: a try must not outlive its transaction's deadline.
    // Cleared once answered (AbortSignal.timeout would stay pending for the whole timeout).
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error(`timeout after ${opts.timeoutMs} ms`)), opts.timeoutMs);
    let text: string;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method,
        dispatcher: this.agent,
        headers: { accept: 'application/json', ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
        body: opts.body,
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
        signal: abort.signal,
      });
      text = await res.body.text();
    } finally {
      clearTimeout(timer);
    }
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
