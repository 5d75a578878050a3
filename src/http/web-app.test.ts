import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultConfig } from '../../test/support/config.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { createMemoryLogger } from '../kernel/logger.ts';
import { createMetrics } from '../kernel/metrics.ts';
import { createPlane } from './plane.ts';
import { registerWebAppRoutes } from './web-app.ts';

// The console's pages and assets on the app plane, against a build made here:
// hashed assets cached for a year, the page never cached, nothing outside the
// build reachable, a clear 503 when there is no build, and the CSP naming the
// configured tile origin and nothing looser.

async function plane(dist: string, imageSources: string[] = []) {
  const config = defaultConfig();
  const memory = createMemoryLogger();
  const app = await createPlane({ name: 'app', config: { ...config.planes.app, port: 0 }, logger: memory.logger, metrics: createMetrics({ defaultMetrics: false }), securityHeaders: { imageSources } });
  await registerWebAppRoutes(app.app, { console: config.console, ssoEnabled: false, logger: memory.logger, dist });
  await app.app.ready();
  return { app: app.app, memory };
}

function fakeBuild(): { dir: ReturnType<typeof tempDir>; dist: string } {
  const dir = tempDir('rampart-web');
  const dist = `${dir.path}/dist/`;
  mkdirSync(join(dist, 'console'), { recursive: true });
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(dist, 'console', 'index.html'), '<!doctype html><title>Rampart console</title><script type="module" src="/assets/console-abc123.js"></script>');
  writeFileSync(join(dist, 'assets', 'console-abc123.js'), 'export {};');
  writeFileSync(join(dir.path, 'secret.txt'), 'outside the build');
  return { dir, dist };
}

test('the console page is never cached; hashed assets are cached immutably; client routes all answer the page', async (t) => {
  const { dir, dist } = fakeBuild();
  t.after(() => dir.cleanup());
  const { app } = await plane(dist);
  t.after(() => app.close());

  for (const url of ['/console/', '/console/shipments', '/console/shipments/shp_1']) {
    const page = await app.inject({ method: 'GET', url });
    assert.equal(page.statusCode, 200, url);
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.body, /Rampart console/);
  }
  const root = await app.inject({ method: 'GET', url: '/' });
  assert.equal(root.statusCode, 302);
  assert.equal(root.headers.location, '/console/');

  const asset = await app.inject({ method: 'GET', url: '/assets/console-abc123.js' });
  assert.equal(asset.statusCode, 200);
  assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.match(String(asset.headers['content-type']), /javascript/);

  for (const url of ['/assets/../secret.txt', '/assets/%2e%2e/secret.txt', '/assets/', '/assets/missing.js', '/secret.txt']) {
    const refused = await app.inject({ method: 'GET', url });
    assert.equal(refused.statusCode, 404, url);
    assert.doesNotMatch(refused.body, /outside the build/, url);
  }
});

test('without a build the page says how to build it (503) and the start-up log says so', async (t) => {
  const dir = tempDir('rampart-web-empty');
  t.after(() => dir.cleanup());
  const { app, memory } = await plane(`${dir.path}/dist/`);
  t.after(() => app.close());
  const page = await app.inject({ method: 'GET', url: '/console/' });
  assert.equal(page.statusCode, 503);
  assert.match(page.body, /npm run build:web/);
  assert.ok(memory.lines().some((line) => /web console is not built/.test(line)));
});

test('the CSP allows scripts and styles from this origin only, and images from the tile origin when one is configured', async (t) => {
  const { dir, dist } = fakeBuild();
  t.after(() => dir.cleanup());
  const { app } = await plane(dist, ['https://tiles.example.net']);
  t.after(() => app.close());
  const csp = String((await app.inject({ method: 'GET', url: '/console/' })).headers['content-security-policy']);
  const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values.join(' ')]));
  assert.equal(directives.get('script-src'), "'self'");
  assert.equal(directives.get('script-src-attr'), "'none'");
  assert.equal(directives.get('style-src'), "'self'");
  assert.equal(directives.get('img-src'), "'self' data: blob: https://tiles.example.net");
  assert.equal(directives.get('frame-ancestors'), "'none'");
  assert.equal(directives.get('object-src'), "'none'");
  assert.doesNotMatch(csp, /unsafe|https:(\s|;|$)/);
});
