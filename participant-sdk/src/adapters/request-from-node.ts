import { DEFAULT_CALLBACK_PREFIX } from '@dtx/protocol';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { CallbackAnswer, CallbackRequest } from '../http/callback-answer.js';

/** The prefix the callbacks are served below when an adapter is given none. */
export const DEFAULT_PREFIX = DEFAULT_CALLBACK_PREFIX;

/**
 * A node request as the core reads it. `route`: its path below the adapter's prefix (or
 * below the path a router is mounted at); `url`: the path as the request line had it.
 */
export function requestFromNode(req: IncomingMessage, route: string, url: string, body: CallbackRequest['body'] = req): CallbackRequest {
  return {
    method: req.method ?? 'GET',
    route,
    url,
    headers: req.headers,
    body,
    localAddress: req.socket.localAddress,
    localPort: req.socket.localPort,
    tls: (req.socket as Partial<TLSSocket>).encrypted === true,
  };
}

/** The path below `prefix` of a request line's `url` (query dropped), or undefined when it is not below it. */
export function routeBelow(prefix: string, url: string): string | undefined {
  const path = url.split('?')[0] ?? '';
  const base = prefix.replace(/\/+$/, '');
  return path.startsWith(`${base}/`) ? path.slice(base.length) : undefined;
}

export function sendToNode(res: ServerResponse, answer: CallbackAnswer): void {
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}
