import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { UnauthorizedError } from '../errors.js';
import { isPageRoute } from './ui.js';

/** Bearer tokens for `/v1`; none configured means an open API (embedded dev mode). A callback hook: no promise per request. */
export function bearerAuth(tokens: string[]) {
  const known = tokens.map((t) => Buffer.from(t));
  return (req: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    if (known.length === 0 || !isProtected(req)) return done();
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    const given = m ? Buffer.from(m[1]!.trim()) : null;
    if (!given || !known.some((k) => k.length === given.length && timingSafeEqual(k, given))) return done(new UnauthorizedError());
    done();
  };
}

/**
 * Decided on the route that matched, not the raw URL: the router decodes the path,
 * so `/%761/transactions` reaches the `/v1/transactions` route. Only the open
 * service routes and the pages (dashboard, API page) are exempt; an unmatched URL needs a token too.
 */
const OPEN_ROUTES = new Set(['/healthz', '/readyz', '/metrics', '/docs']);
function isProtected(req: FastifyRequest): boolean {
  const route = req.routeOptions.url;
  return route === undefined || !(OPEN_ROUTES.has(route) || isPageRoute(route));
}
