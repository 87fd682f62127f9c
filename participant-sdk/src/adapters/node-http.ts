import type { IncomingMessage, ServerResponse } from 'node:http';
import { createParticipantCallbacks, type ParticipantOptions } from '../http/participant-callbacks.js';
import { DEFAULT_PREFIX, requestFromNode, routeBelow, sendToNode } from './request-from-node.js';

export interface NodeHandlerOptions extends ParticipantOptions {
  /** The path the callbacks are served below. @default '/dtx' */
  prefix?: string;
}

/** A `node:http` request listener serving the participant's callbacks; close it with the server. */
export interface ParticipantNodeHandler {
  /**
   * Answers a callback below the prefix. Anything else goes to `next` when given (the
   * service's own routes); without it, it is answered 404 as an unknown route.
   */
  (req: IncomingMessage, res: ServerResponse, next?: () => void): void;
  /** Stops what the participant started (its stranded-branch checks); the knex pool stays the caller's. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The plain `node:http` adapter: `http.createServer(await participantHandler({ knex, participants }))`. */
export async function participantHandler(opts: NodeHandlerOptions): Promise<ParticipantNodeHandler> {
  const { prefix = DEFAULT_PREFIX, ...rest } = opts;
  const callbacks = await createParticipantCallbacks(rest);
  const handler = (req: IncomingMessage, res: ServerResponse, next?: () => void): void => {
    const url = req.url ?? '/';
    const route = routeBelow(prefix, url);
    if (next !== undefined && (route === undefined || !callbacks.serves(route))) return next();
    void callbacks.answer(requestFromNode(req, route ?? url, url)).then((answer) => sendToNode(res, answer));
  };
  return Object.assign(handler, { close: () => callbacks.close(), [Symbol.asyncDispose]: () => callbacks.close() });
}
