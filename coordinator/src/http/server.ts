import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { ResolvedOptions } from '../config/options.js';
import { InvalidRequestError, ShuttingDownError } from '../errors.js';
import type { CoordinatorService } from '../service/coordinator-service.js';
import type { Metrics } from '../metrics.js';
import { bearerAuth } from './auth.js';
import { errorBody } from '@dtx/protocol';
import { sendClientError, sendError } from './errors.js';
import { serviceRoutes } from './routes/service.js';
import { transactionRoutes } from './routes/transactions.js';
import { requestSpans } from '../tracing/request-spans.js';
import { uiRoutes } from './ui.js';

export interface ServerDeps {
  service: CoordinatorService;
  /** Readiness: resolves when the log answers. */
  ping(): Promise<void>;
  metrics: Metrics;
}

export async function buildServer({ service, ping, metrics }: ServerDeps, options: ResolvedOptions): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: options.bodyLimitBytes,
    logger: { level: options.logLevel },
    // fastify logs two lines per request at info (a write each): kept off the decision lines unless asked for
    logController: new LogController({ disableRequestLogging: !options.logRequests }),
    // fastify's own 503 while closing is not in the protocol's shape: answered by the onRequest hook below
    return503OnClosing: false,
    keepAliveTimeout: 65_000,
    // a client must send its whole request in time (node checks every connectionsCheckingInterval)
    requestTimeout: options.requestTimeoutMs,
    http: {
      headersTimeout: Math.min(5000, options.requestTimeoutMs),
      requestTimeout: options.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, Math.ceil(options.requestTimeoutMs / 2)),
    },
    // the router refuses no path param that node lets through (request line and headers, 16 KiB by default):
    // the schemas judge xid and branchId, so a too long one is 400 INVALID_REQUEST naming it
    routerOptions: { maxParamLength: 16_384 },
    // bad URLs (param too long, broken percent-encoding) answer in the protocol's error shape too
    frameworkErrors: (err, req, reply) => sendError(reply, err, req),
    clientErrorHandler: sendClientError,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true, useDefaults: false } },
  });

  // JSON only; an empty body counts as {} so `POST …/commit` needs none.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new InvalidRequestError(`malformed JSON: ${(err as Error).message}`, [{ path: '/body', message: 'malformed JSON' }]), undefined);
    }
  });
  app.addHook('preValidation', (req, _reply, done) => {
    if (req.body === undefined && req.method === 'POST') req.body = {};
    done();
  });
  requestSpans(app);
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', (req, reply, done) => {
    if (closing) return void sendError(reply, new ShuttingDownError(), req);
    done();
  });
  app.addHook('onRequest', bearerAuth(options.apiTokens));
  app.addHook('onResponse', (req, reply, done) => {
    metrics.requests.inc({ method: req.method, route: req.routeOptions.url ?? 'none', status: reply.statusCode });
    done();
  });

  app.setErrorHandler((err, req, reply) => sendError(reply, err, req));
  app.setNotFoundHandler((req, reply) => reply.code(404).send(errorBody('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`)));

  await app.register(swagger, {
    openapi: {
      info: { title: 'DTX coordinator API', version: '1', description: 'PROTOCOL.md v1: TCC global transactions over HTTP/JSON' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  transactionRoutes(app, service);
  serviceRoutes(app, { ping, metrics });
  await uiRoutes(app);
  return app;
}
