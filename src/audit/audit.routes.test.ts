import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RouteOptions } from 'fastify';
import { ManualClock } from '../kernel/clock.ts';
import { createMemoryLogger } from '../kernel/logger.ts';
import { createMetrics } from '../kernel/metrics.ts';
import { createPlane, type Plane } from '../http/plane.ts';
import { testConfig } from '../../test/support/config.ts';
import { sqliteTarget, type OpenedDatabase } from '../../test/support/databases.ts';
import { registerAuditRoutes } from './audit.routes.ts';
import { appendEvents } from '../../test/support/audit.ts';

interface Page {
  items: Array<{ seq: number; action: string; details: Record<string, unknown>; actor: { id: string | null } }>;
  nextCursor: string | null;
}

describe('GET /api/v1/audit/entries', () => {
  let opened: OpenedDatabase;
  let plane: Plane;
  const routes: RouteOptions[] = [];

  before(async () => {
    opened = await sqliteTarget.open();
    await appendEvents(opened.database, new ManualClock('2026-03-01T00:00:00.000Z'), 7);
    plane = await createPlane({ name: 'app', config: testConfig(opened.config.dataDir).planes.app, logger: createMemoryLogger('warn').logger, metrics: createMetrics({ defaultMetrics: false }), securityHeaders: { imageSources: [] } });
    plane.app.addHook('onRoute', (route) => void routes.push(route as RouteOptions));
    registerAuditRoutes(plane.app, { database: opened.database });
    await plane.app.ready();
  });
  after(async () => {
    await plane.app.close();
    await opened.cleanup();
  });

  const get = (query: string) => plane.app.inject({ method: 'GET', url: `/api/v1/audit/entries${query}` });

  test('declares that it needs audit.read', () => {
    const route = routes.find((r) => r.url === '/api/v1/audit/entries');
    assert.deepEqual(route?.config, { access: { permission: 'audit.read' } });
  });

  test('lists entries newest first, details as objects, and pages with nextCursor', async () => {
    const first = await get('?limit=4');
    assert.equal(first.statusCode, 200, first.body);
    const page = first.json<Page>();
    assert.deepEqual(page.items.map((i) => i.seq), [7, 6, 5, 4]);
    assert.deepEqual(page.items[0]?.details, { n: 7, role: 'dispatcher' });
    assert.ok(page.nextCursor !== null);
    const second = (await get(`?limit=4&cursor=${page.nextCursor}`)).json<Page>();
    assert.deepEqual(second.items.map((i) => i.seq), [3, 2, 1]);
    assert.equal(second.nextCursor, null);
  });

  test('filters by action, actor, target and time', async () => {
    assert.deepEqual((await get('?action=auth.login')).json<Page>().items.map((i) => i.seq), [7, 5, 3, 1]);
    assert.deepEqual((await get('?actor=acct_2&action=auth.login')).json<Page>().items.map((i) => i.seq), [5]);
    assert.deepEqual((await get('?target=acct_target_6')).json<Page>().items.map((i) => i.seq), [6]);
    assert.deepEqual((await get('?from=2026-03-01T00:00:02.000Z&to=2026-03-01T00:00:04Z')).json<Page>().items.map((i) => i.seq), [5, 4, 3]);
  });

  test('refuses malformed queries with a problem document', async () => {
    for (const query of ['?limit=0', '?limit=201', '?bogus=1', '?from=yesterday', '?action=AUTH.LOGIN', '?action=auth%0Alogin', '?cursor=a%20b']) {
      const response = await get(query);
      assert.equal(response.statusCode, 400, query);
      assert.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8', query);
      assert.equal(response.json<{ code: string }>().code, 'request.invalid', query);
    }
  });

  test('refuses a cursor it did not issue and from after to, saying which', async () => {
    const cursor = await get(`?cursor=${Buffer.from('{"v":1,"before":"x"}').toString('base64url')}`);
    assert.equal(cursor.statusCode, 400);
    assert.match(cursor.json<{ detail: string }>().detail, /cursor is invalid/);
    const range = await get('?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z');
    assert.equal(range.statusCode, 400);
    assert.match(range.json<{ detail: string }>().detail, /"from" must not be later than "to"/);
  });
});
