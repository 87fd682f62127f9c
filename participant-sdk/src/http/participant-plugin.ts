import { DEFAULT_CALLBACK_PREFIX } from '@dtx/protocol';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { CallbackAnswer } from './callback-answer.js';
import { errorAnswer } from './error-reply.js';
import { createParticipantCallbacks, type ParticipantCallbacks, type ParticipantOptions } from './participant-callbacks.js';

export interface ParticipantPluginOptions extends Omit<ParticipantOptions, 'bodyLimit' | 'log'> {
  /** fastify's route prefix. @default '/dtx' */
  prefix?: string;
}

/**
 * The fastify adapter: serves the participant's routes (participant-callbacks.ts) below
 * `prefix`. Register it without fastify-plugin's unwrapping: its raw-body JSON parser and
 * error handler stay inside this plugin's scope. fastify's `bodyLimit` applies, and its
 * logger. Mis-annotated classes fail here, at registration.
 */
export const participantPlugin: FastifyPluginAsync<ParticipantPluginOptions> = async (app: FastifyInstance, opts) => {
  const { prefix, ...rest } = opts;
  const callbacks = await createParticipantCallbacks({ ...rest, log: app.log });
  app.addHook('onClose', () => callbacks.close());
  // fastify applies an explicit `prefix` itself; without one the protocol's default applies.
  serveCallbacks(app, callbacks, prefix === undefined ? DEFAULT_CALLBACK_PREFIX : '');
};

/**
 * Serves `callbacks` at `<base><route>` in the fastify scope `app` (this plugin's, or one
 * Nest's fastify platform registers): the raw-body JSON parser and the error handler it
 * sets stay in that scope.
 */
export function serveCallbacks(app: FastifyInstance, callbacks: ParticipantCallbacks, base: string): void {
  // The signature covers the exact bytes sent, so the body is kept raw and parsed after checking it.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  // what fastify refuses before the route (media type, size) is answered as the core answers its own errors
  app.setErrorHandler((err, request, reply) => send(reply, errorAnswer(err, request.log)));

  for (const route of callbacks.routes) {
    app.post(`${base}${route}`, async (request: FastifyRequest, reply: FastifyReply) =>
      send(
        reply,
        await callbacks.answer({
          method: request.method,
          route,
          url: request.url,
          headers: request.headers,
          body: Buffer.isBuffer(request.body) ? request.body : undefined,
          localAddress: request.socket.localAddress,
          localPort: request.socket.localPort,
          tls: request.protocol === 'https',
          log: request.log,
        }),
      ),
    );
  }
}

function send(reply: FastifyReply, answer: CallbackAnswer): FastifyReply {
  return reply.code(answer.status).headers(answer.headers).send(answer.body);
}
