import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { requestSpans } from '../tracing/request-spans.js';
import { sendDtmAnswer, serverError, toDtmAnswer } from './answers.js';
import { dtmRoutes, type DtmDeps } from './routes.js';

/**
 * The DTM-compatible surface's own listener (`dtmPort`): DTM's routes and answer shapes,
 * no bearer token (DTM's clients send none), any content type read as JSON (the clients
 * differ in what they send). Its writes go through the same use cases as `/v1`.
 */
export async function buildDtmServer(deps: DtmDeps): Promise<FastifyInstance> {
  const { options } = deps;
  const app = Fastify({
    bodyLimit: options.bodyLimitBytes,
    logger: { level: options.logLevel },
    logController: new LogController({ disableRequestLogging: !options.logRequests }),
    requestTimeout: options.requestTimeoutMs,
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(serverError(`malformed JSON: ${(err as Error).message}`, 'INVALID_REQUEST'), undefined);
    }
  });
  requestSpans(app);
  app.setErrorHandler((err, req, reply) => {
    const a = toDtmAnswer(err);
    if (a.status === 500 && a.code === 'INTERNAL') req.log.error({ err }, 'unexpected error on the DTM surface');
    return sendDtmAnswer(reply, a);
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ message: `no route ${req.method} ${req.url.split('?')[0]}` }));
  await app.register(swagger, {
    openapi: { info: { title: 'DTX: DTM-compatible API', version: '1', description: 'DTM’s /api/dtmsvr routes served by DTX (docs/coming-from-dtm.md)' } },
  });
  app.get('/docs', { schema: { hide: true } }, async () => app.swagger());
  dtmRoutes(app, deps);
  return app;
}
