import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { RampartConfig } from '../config/schema.ts';
import type { Logger } from '../kernel/logger.ts';
import type { PlaneApp } from './plane.ts';

// The web console, built by Vite into web/dist (scripts/build-web.ts; `npm ci`
// and `npm start` run it when the build is missing or stale). Assets carry a
// content hash in their names and are cached for a year, immutably; the HTML
// pages are never cached, so a new build reaches every browser on its next
// load. The console's client routes all live under /console/, so no catch-all
// route shadows the API, tracking or receipt pages.

/** Where Vite writes the build; the server only reads it. */
export const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

export interface WebAppDeps {
  readonly console: RampartConfig['console'];
  readonly ssoEnabled: boolean;
  readonly logger: Logger;
  /** Tests point this at a build of their own. */
  readonly dist?: string;
}

const NOT_BUILT = '<!doctype html><html lang="en"><meta charset="utf-8"><title>Rampart</title><h1>The console is not built</h1><p>Run <code>npm run build:web</code> (or <code>npm start</code>, which builds it when missing) and reload.</p></html>';

const ConsoleSettings = Type.Object({
  tileUrl: Type.String({ description: 'Map tile URL template; empty: no tiles (a plain background with a scale bar).' }),
  tileAttribution: Type.String(),
  sso: Type.Boolean({ description: 'Whether single sign-on is offered.' }),
});

export async function registerWebAppRoutes(app: PlaneApp, deps: WebAppDeps): Promise<void> {
  const dist = deps.dist ?? WEB_DIST;
  const page = `${dist}console/index.html`;
  const built = existsSync(page);
  if (!built) deps.logger.warn({ dist }, 'the web console is not built: /console/ answers 503 until `npm run build:web` has run');
  const html = built ? readFileSync(page) : undefined;

  if (built) {
    await app.register(fastifyStatic, {
      root: `${dist}assets`,
      prefix: '/assets/',
      // Only what the build wrote; nothing outside it, no directory listings, no dotfiles.
      wildcard: false,
      index: false,
      dotfiles: 'deny',
      decorateReply: false,
      cacheControl: true,
      maxAge: '365d',
      immutable: true,
    });
  }

  const servePage = (_request: unknown, reply: FastifyReply) => {
    void reply.header('cache-control', 'no-store');
    if (html === undefined) return reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT);
    return reply.type('text/html; charset=utf-8').send(html);
  };
  app.get('/', { schema: { hide: true } }, (_request, reply) => reply.redirect('/console/', 302));
  app.get('/console', { schema: { hide: true } }, (_request, reply) => reply.redirect('/console/', 301));
  app.get('/console/', { schema: { hide: true } }, servePage);
  app.get('/console/*', { schema: { hide: true } }, servePage);

  app.get(
    '/api/v1/console/settings',
    { config: { access: { public: true } }, schema: { tags: ['console'], summary: 'What the console needs before sign-in: map tiles and whether SSO is offered', response: { 200: ConsoleSettings } } },
    () => ({ tileUrl: deps.console.tileUrl, tileAttribution: deps.console.tileAttribution, sso: deps.ssoEnabled }),
  );
}
