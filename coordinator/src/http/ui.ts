import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/**
 * The dashboard's files (plain HTML, CSS and ES modules, no build step): the package's
 * `ui/` folder, two levels up from this module both in src/http/ and in dist/http/.
 */
export const UI_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../ui');

/**
 * The operator's pages: the dashboard at `/ui` and the interactive API page at
 * `/docs/ui`. Both are static and open; the data they show comes from `/v1`, which
 * asks for the token when API tokens are configured.
 */
export async function uiRoutes(app: FastifyInstance): Promise<void> {
  if (!existsSync(join(UI_ROOT, 'index.html'))) throw new Error(`the dashboard's files are missing: ${UI_ROOT}`);
  app.get('/ui', { schema: { hide: true } }, (_req, reply) => reply.redirect('ui/'));
  await app.register(async (scope) => {
    await scope.register(fastifyStatic, { root: UI_ROOT, prefix: '/ui/', decorateReply: false, cacheControl: false, schemaHide: true });
  });
  await app.register(swaggerUi, { routePrefix: '/docs/ui', uiConfig: { docExpansion: 'list', persistAuthorization: true } });
}

/** Routes that serve pages, not data: no token needed to load them. */
export const isPageRoute = (route: string): boolean => route === '/ui' || route.startsWith('/ui/') || route === '/docs/ui' || route.startsWith('/docs/ui/');
