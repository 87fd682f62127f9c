import { participantPlugin, type ParticipantOptions } from '@dtx/participant-sdk';
import { participantRouter } from '@dtx/participant-sdk/express';
import { participantMiddleware } from '@dtx/participant-sdk/koa';
import { DtxParticipantModule } from '@dtx/participant-sdk/nest';
import { participantHandler } from '@dtx/participant-sdk/node';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import express, { type ErrorRequestHandler } from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A participant served by one framework on a real port, its callbacks below `/dtx`, beside a route of the service's own. */
export interface AdapterServer {
  url: string;
  /** The participant instances serving: the ones given, or under Nest the providers it made of their classes. */
  participants: readonly object[];
  close(): Promise<void>;
}

export type AdapterName = 'fastify' | 'node' | 'express' | 'koa' | 'nest' | 'nest-fastify';
export type StartAdapter = (opts: Omit<ParticipantOptions, 'log'>) => Promise<AdapterServer>;

/**
 * Each service also has its own JSON route, `POST /echo` (parsed by the framework's JSON
 * parser), and `POST /boom`, which fails into the framework's error handling: what the
 * adapter must leave alone.
 */
export const ADAPTERS: Record<AdapterName, StartAdapter> = {
  async fastify(opts) {
    const app = Fastify();
    await app.register(participantPlugin, opts);
    app.post('/echo', async (request) => ({ echoed: request.body }));
    app.post('/boom', async () => {
      throw Object.assign(new Error('boom'), { statusCode: 418 });
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, participants: opts.participants, close: () => app.close() };
  },

  async node(opts) {
    const handler = await participantHandler({ ...opts, log: quiet });
    const server = createServer((req, res) =>
      handler(req, res, () => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
          if (req.url !== '/echo') return void res.writeHead(req.url === '/boom' ? 418 : 404).end();
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echoed: JSON.parse(Buffer.concat(chunks).toString()) }));
        });
      }),
    );
    return listening(server, opts.participants, () => handler.close());
  },

  async express(opts) {
    const { router, close } = await participantRouter({ ...opts, log: quiet });
    const app = express();
    app.use('/dtx', router);
    app.use(express.json());
    app.post('/echo', (req, res) => void res.json({ echoed: req.body }));
    app.post('/boom', () => {
      throw new Error('boom');
    });
    const teapot: ErrorRequestHandler = (err: Error, _req, res, _next) => void res.status(418).json({ caught: err.message });
    app.use(teapot);
    return listening(createServer(app), opts.participants, close);
  },

  async koa(opts) {
    const { middleware, close } = await participantMiddleware({ ...opts, log: quiet });
    const app = new Koa();
    app.on('error', () => {});
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (err) {
        ctx.status = 418;
        ctx.body = { caught: (err as Error).message };
      }
    });
    app.use(middleware);
    app.use(async (ctx) => {
      if (ctx.path === '/boom') throw new Error('boom');
      if (ctx.path !== '/echo') return;
      const chunks: Buffer[] = [];
      for await (const c of ctx.req) chunks.push(c as Buffer);
      ctx.body = { echoed: JSON.parse(Buffer.concat(chunks).toString()) };
    });
    return listening(createServer(app.callback()), opts.participants, close);
  },

  async nest(opts) {
    // a module without decorators (the test runs under standard ones): the participant has no constructor dependencies
    class AppModule {}
    const app = await NestFactory.create<NestExpressApplication>({ module: AppModule, imports: [DtxParticipantModule.forRoot({ ...opts, participants: opts.participants.map((p) => p.constructor as new () => object), log: quiet })] }, { logger: false });
    const server = app.getHttpAdapter().getInstance() as express.Express;
    server.post('/echo', express.json(), (req, res) => void res.json({ echoed: req.body }));
    server.post('/boom', () => {
      throw new Error('boom');
    });
    server.use(((err: Error, _req, res, _next) => void res.status(418).json({ caught: err.message })) as ErrorRequestHandler);
    await app.listen(0, '127.0.0.1');
    return { url: (await app.getUrl()).replace('[::1]', '127.0.0.1'), participants: opts.participants.map((p) => app.get(p.constructor)), close: () => app.close() };
  },

  async 'nest-fastify'(opts) {
    class AppModule {}
    const module = { module: AppModule, imports: [DtxParticipantModule.forRoot({ ...opts, participants: opts.participants.map((p) => p.constructor as new () => object), log: quiet })] };
    const app = await NestFactory.create<NestFastifyApplication>(module, new FastifyAdapter(), { logger: false });
    const server = app.getHttpAdapter().getInstance();
    server.post('/echo', async (request) => ({ echoed: request.body }));
    server.post('/boom', async () => {
      throw Object.assign(new Error('boom'), { statusCode: 418 });
    });
    await app.listen(0, '127.0.0.1');
    return { url: (await app.getUrl()).replace('[::1]', '127.0.0.1'), participants: opts.participants.map((p) => app.get(p.constructor)), close: () => app.close() };
  },
};

/** The adapters' failing-callback log lines are expected here: kept off the test output. */
const quiet = { info() {}, warn() {}, error() {} };

async function listening(server: Server, participants: readonly object[], closeParticipant: () => Promise<void>): Promise<AdapterServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    participants,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await closeParticipant();
    },
  };
}
