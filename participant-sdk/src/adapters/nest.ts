import type { DynamicModule, ModuleMetadata, Provider, Type } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import type { Request, Response } from 'express';
import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { createRequire } from 'node:module';
import { CoordinatorClient, type CoordinatorClientOptions } from '../client/coordinator-client.js';
import { createParticipantCallbacks, type ParticipantCallbacks, type ParticipantOptions } from '../http/participant-callbacks.js';
import { serveCallbacks } from '../http/participant-plugin.js';
import { FrameworkMissingError } from './framework-missing-error.js';
import { DEFAULT_PREFIX, requestFromNode, routeBelow, sendToNode } from './request-from-node.js';

export interface DtxParticipantModuleOptions extends Omit<ParticipantOptions, 'participants' | 'knex'> {
  /** The participant's database (barrier rows and business changes share its transactions); the module does not close it. */
  knex: Knex;
  /** `@Participant` classes: provided by this module as ordinary providers, their constructor dependencies injected by Nest. */
  participants: Type<object>[];
  /** Providers the participants depend on (a repository, say), beside them in this module. */
  providers?: Provider[];
  /** Modules whose exported providers the participants depend on. */
  imports?: ModuleMetadata['imports'];
  /** The path the callbacks are served below, on Nest's own HTTP server. @default '/dtx' */
  prefix?: string;
  /** Makes `CoordinatorClient` injectable, closed when the app shuts down. */
  coordinator?: CoordinatorClientOptions;
}

/** Nest's injection token of the framework-neutral participant this module serves. */
export const DTX_PARTICIPANT_CALLBACKS = 'DTX_PARTICIPANT_CALLBACKS';

/**
 * The NestJS adapter: `DtxParticipantModule.forRoot({ knex, participants: [Wallet] })` in a
 * module's imports. The participant classes become injectable providers; their callbacks
 * are served on Nest's HTTP adapter (express or fastify platform), read raw so the
 * signature is checked against the exact bytes; shutting the app down (with
 * `app.close()` or `enableShutdownHooks()`) stops what the module started.
 */
export class DtxParticipantModule {
  static forRoot(opts: DtxParticipantModuleOptions): DynamicModule {
    const { HttpAdapterHost } = requireNest();
    const { participants, providers = [], imports = [], prefix = DEFAULT_PREFIX, coordinator, ...rest } = opts;
    const callbacks: Provider = {
      provide: DTX_PARTICIPANT_CALLBACKS,
      inject: [HttpAdapterHost, ...participants],
      useFactory: async (host: HttpAdapterHost, ...instances: object[]) => servedCallbacks(host, prefix, await createParticipantCallbacks({ ...rest, participants: instances })),
    };
    const client: Provider[] =
      coordinator === undefined ? [] : [{ provide: CoordinatorClient, useFactory: () => Object.assign(new CoordinatorClient(coordinator), { onApplicationShutdown(this: CoordinatorClient) { return this.close(); } }) }];
    return {
      module: DtxParticipantModule,
      imports,
      providers: [...providers, ...participants, callbacks, ...client],
      exports: [...participants, DTX_PARTICIPANT_CALLBACKS, ...(coordinator === undefined ? [] : [CoordinatorClient])],
    };
  }
}

/**
 * Registers the callback routes on Nest's HTTP server, and closes the participant with the
 * app. Express: routes added now come before the body parsers Nest adds at init. fastify:
 * a plugin scope of their own, with the raw-body parser, as the fastify plugin has.
 */
function servedCallbacks(host: HttpAdapterHost, prefix: string, callbacks: ParticipantCallbacks): ParticipantCallbacks & { onApplicationShutdown(): Promise<void> } {
  const adapter = host.httpAdapter;
  const base = prefix.replace(/\/+$/, '');
  const platform = adapter?.getType();
  if (platform === 'express') {
    for (const route of callbacks.routes) {
      adapter.post(`${base}${route}`, (req: Request, res: Response) => {
        void callbacks.answer(requestFromNode(req, routeBelow(prefix, req.originalUrl) ?? route, req.originalUrl)).then((answer) => sendToNode(res, answer));
      });
    }
  } else if (platform === 'fastify') {
    void (adapter.getInstance() as FastifyInstance).register(async (scope) => serveCallbacks(scope, callbacks, base));
  } else {
    throw new FrameworkMissingError('@nestjs/platform-express', `NestJS (${platform ?? 'no HTTP'} platform: express and fastify are served)`);
  }
  return Object.assign(callbacks, { onApplicationShutdown: () => callbacks.close() });
}

/** @nestjs/core, loaded on first use: an optional peer dependency. */
function requireNest(): typeof import('@nestjs/core') {
  try {
    return createRequire(import.meta.url)('@nestjs/core') as typeof import('@nestjs/core');
  } catch (err) {
    throw new FrameworkMissingError('@nestjs/core', 'NestJS', { cause: err });
  }
}
