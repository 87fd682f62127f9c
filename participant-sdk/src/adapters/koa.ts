import type { Middleware } from 'koa';
import { createParticipantCallbacks, type ParticipantOptions } from '../http/participant-callbacks.js';
import { DEFAULT_PREFIX, requestFromNode, routeBelow } from './request-from-node.js';

export interface KoaMiddlewareOptions extends ParticipantOptions {
  /** The path the callbacks are served below. @default '/dtx' */
  prefix?: string;
}

/** A Koa middleware serving the participant's callbacks, and how to stop what it started. */
export interface ParticipantMiddleware {
  middleware: Middleware;
  /** Stops its stranded-branch checks; the knex pool stays the caller's. */
  close(): Promise<void>;
}

/**
 * The Koa adapter: `app.use(middleware)` answers callbacks below `prefix` from the raw
 * request (use it before a body parser) and passes every other request down the chain.
 */
export async function participantMiddleware(opts: KoaMiddlewareOptions): Promise<ParticipantMiddleware> {
  const { prefix = DEFAULT_PREFIX, ...rest } = opts;
  const callbacks = await createParticipantCallbacks(rest);
  const middleware: Middleware = async (ctx, next) => {
    const route = routeBelow(prefix, ctx.originalUrl);
    if (ctx.method !== 'POST' || route === undefined || !callbacks.serves(route)) return next();
    const answer = await callbacks.answer(requestFromNode(ctx.req, route, ctx.originalUrl));
    ctx.status = answer.status;
    ctx.set(answer.headers);
    // set after the headers, so Koa keeps the answer's content type
    ctx.body = answer.body ?? null;
  };
  return { middleware, close: () => callbacks.close() };
}
