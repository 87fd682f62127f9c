import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../metrics.js';
import { errorBody } from '@dtx/protocol';

/** Health, readiness, metrics and the OpenAPI document. */
export function serviceRoutes(app: FastifyInstance, deps: { ping(): Promise<void>; metrics: Metrics }): void {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (req, reply) => {
    try {
      await deps.ping();
      return { status: 'ready' };
    } catch (err) {
      req.log.warn({ err }, 'store not reachable');
      return reply.code(503).header('retry-after', '1').send(errorBody('STORE_UNAVAILABLE', 'the transaction log is not reachable'));
    }
  });

  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });

  app.get('/docs', { schema: { hide: true } }, async () => app.swagger());
}
