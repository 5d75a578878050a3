import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RouteOptions } from 'fastify';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { ManualClock } from '../kernel/clock.ts';
import { createMemoryLogger } from '../kernel/logger.ts';
import { createMetrics } from '../kernel/metrics.ts';
import { createPlane, type Plane } from '../http/plane.ts';
import { testConfig } from '../../test/support/config.ts';
import { sqliteTarget, type OpenedDatabase } from '../../test/support/databases.ts';
import { registerAuditRoutes, VerificationRuns } from './audit.routes.ts';
import { appendEvents, deleteEntry, tamperField } from '../../test/support/audit.ts';
import { createSignedInUser, signInAdmin, startTestRampart, type SignedIn, type TestRampart } from '../../test/support/identity.ts';
import type { Database } from '../storage/database.ts';
import { verifyAuditExport } from './verify.ts';

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

interface Verification {
  ok: boolean;
  entries: number;
  checkpoints: number;
  head: { seq: number } | null;
  problemCount: number;
  problems: Array<{ seq: number | null; kind: string; message: string }>;
  firstProblem: { seq: number | null; kind: string; message: string } | null;
}

/** Holds every query's answer until released, and counts the walks begun (each reads the head first). */
class Gate implements KyselyPlugin {
  walks = 0;
  #open = false;
  #waiting: Array<() => void> = [];
  #reached: () => void = () => undefined;
  /** Resolves once a query is held. */
  readonly reached = new Promise<void>((resolve) => {
    this.#reached = resolve;
  });

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (JSON.stringify(args.node).includes('"audit_head"')) this.walks++;
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (!this.#open) {
      const held = new Promise<void>((resolve) => this.#waiting.push(resolve));
      this.#reached();
      await held;
    }
    return args.result;
  }

  release(): void {
    this.#open = true;
    for (const resolve of this.#waiting.splice(0)) resolve();
  }
}

async function planeFor(database: Database, dataDir: string): Promise<Plane> {
  const plane = await createPlane({ name: 'app', config: testConfig(dataDir).planes.app, logger: createMemoryLogger('warn').logger, metrics: createMetrics({ defaultMetrics: false }), securityHeaders: { imageSources: [] } });
  registerAuditRoutes(plane.app, { database, clock: new ManualClock('2026-03-02T10:00:00.000Z') });
  await plane.app.ready();
  return plane;
}

describe('one audit entry, verification and export', () => {
  let opened: OpenedDatabase;
  let plane: Plane;
  const routes: RouteOptions[] = [];
  const count = async () => (await opened.database.db.selectFrom('audit_entries').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;

  before(async () => {
    opened = await sqliteTarget.open();
    await appendEvents(opened.database, new ManualClock('2026-03-01T00:00:00.000Z'), 7);
    plane = await createPlane({ name: 'app', config: testConfig(opened.config.dataDir).planes.app, logger: createMemoryLogger('warn').logger, metrics: createMetrics({ defaultMetrics: false }), securityHeaders: { imageSources: [] } });
    plane.app.addHook('onRoute', (route) => void routes.push(route as RouteOptions));
    registerAuditRoutes(plane.app, { database: opened.database, clock: new ManualClock('2026-03-02T10:00:00.000Z') });
    await plane.app.ready();
  });
  after(async () => {
    await plane.app.close();
    await opened.cleanup();
  });

  const verify = (payload?: unknown) => plane.app.inject({ method: 'POST', url: '/api/v1/audit/verify', ...(payload === undefined ? {} : { payload: payload as object }) });

  test('every route declares that it needs audit.read', () => {
    for (const [method, url] of [['GET', '/api/v1/audit/entries/:seq'], ['POST', '/api/v1/audit/verify'], ['GET', '/api/v1/audit/verify'], ['GET', '/api/v1/audit/export']]) {
      const route = routes.find((r) => r.url === url && r.method === method);
      assert.deepEqual(route?.config, { access: { permission: 'audit.read' } }, `${method} ${url}`);
    }
  });

  test('one entry by seq; an absent one is 404 and a malformed seq 400, each saying why', async () => {
    const entry = await plane.app.inject({ method: 'GET', url: '/api/v1/audit/entries/3' });
    assert.equal(entry.statusCode, 200, entry.body);
    assert.deepEqual(entry.json<{ seq: number; details: unknown }>().details, { n: 3, role: 'dispatcher' });
    const absent = await plane.app.inject({ method: 'GET', url: '/api/v1/audit/entries/99' });
    assert.equal(absent.statusCode, 404);
    assert.match(absent.json<{ detail: string }>().detail, /no entry 99 is stored/);
    for (const seq of ['0', 'abc', '1.5', '-2']) {
      const bad = await plane.app.inject({ method: 'GET', url: `/api/v1/audit/entries/${seq}` });
      assert.equal(bad.statusCode, 400, seq);
      assert.equal(bad.json<{ code: string }>().code, 'request.invalid', seq);
    }
  });

  test('an intact trail verifies, with or without an empty body; anything in the body is refused and nothing changes', async () => {
    for (const payload of [undefined, {}]) {
      const response = await verify(payload);
      assert.equal(response.statusCode, 200, response.body);
      const report = response.json<Verification>();
      assert.deepEqual({ ok: report.ok, entries: report.entries, head: report.head?.seq, problems: report.problems, first: report.firstProblem }, { ok: true, entries: 7, head: 7, problems: [], first: null });
    }
    const before = await count();
    const refused = await verify({ limit: 5 });
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.json<{ code: string }>().code, 'request.invalid');
    assert.equal(await count(), before);
    assert.deepEqual((await plane.app.inject({ method: 'GET', url: '/api/v1/audit/verify' })).json(), { running: false, done: 0, total: 0 });
  });

  test('the export is the CLI\'s JSON Lines, verifies offline, honours since, and refuses a malformed since', async () => {
    const response = await plane.app.inject({ method: 'GET', url: '/api/v1/audit/export' });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.headers['content-disposition'], 'attachment; filename="rampart-audit-2026-03-02.jsonl"');
    assert.equal(response.headers['cache-control'], 'no-store');
    const lines = response.body.trimEnd().split('\n');
    const header = JSON.parse(lines[0] ?? '{}') as { type: string; exported_at: string; from_seq: number; to_seq: number; jwks: { keys: unknown[] } };
    assert.deepEqual([header.type, header.exported_at, header.from_seq, header.to_seq], ['rampart.audit.export', '2026-03-02T10:00:00.000Z', 1, 7]);
    assert.deepEqual(lines.slice(1).map((l) => (JSON.parse(l) as { seq: number }).seq), [1, 2, 3, 4, 5, 6, 7]);
    assert.equal((await verifyAuditExport(lines, header.jwks)).ok, true);

    const since = await plane.app.inject({ method: 'GET', url: '/api/v1/audit/export?since=2026-03-01T00:00:04.000Z' });
    assert.deepEqual(since.body.trimEnd().split('\n').slice(1).map((l) => (JSON.parse(l) as { seq: number }).seq), [4, 5, 6, 7], 'from the entry before the first one at or after since');
    for (const query of ['?since=yesterday', '?since=7d', '?from=2026-03-01T00:00:00Z']) {
      const bad = await plane.app.inject({ method: 'GET', url: `/api/v1/audit/export${query}` });
      assert.equal(bad.statusCode, 400, query);
      assert.equal(bad.json<{ code: string }>().code, 'request.invalid', query);
    }
  });

  test('a tampered chain names the entry and the kind of change, as the CLI does', async () => {
    await tamperField(opened.database.db, 4);
    const modified = (await verify()).json<Verification>();
    assert.equal(modified.ok, false);
    assert.deepEqual(modified.firstProblem, { seq: 4, kind: 'modified', message: 'entry 4 no longer matches its hash: its content was changed' });
    await deleteEntry(opened.database.db, 6);
    const deleted = (await verify()).json<Verification>();
    assert.deepEqual(deleted.problems.map((p) => [p.seq, p.kind]), [[4, 'modified'], [6, 'deleted']]);
    assert.equal(deleted.problemCount, 2);
  });
});

describe('a verification under way', () => {
  let opened: OpenedDatabase;
  before(async () => {
    opened = await sqliteTarget.open();
    await appendEvents(opened.database, new ManualClock('2026-03-01T00:00:00.000Z'), 3);
  });
  after(() => opened.cleanup());

  test('GET says how far it has got while it runs, and nothing once it is done', async () => {
    const gate = new Gate();
    const plane = await planeFor({ ...opened.database, db: opened.database.db.withPlugin(gate) }, opened.config.dataDir);
    try {
      const pending = Promise.resolve(plane.app.inject({ method: 'POST', url: '/api/v1/audit/verify' }));
      await gate.reached;
      const progress = (await plane.app.inject({ method: 'GET', url: '/api/v1/audit/verify' })).json<{ running: boolean; done: number; total: number }>();
      assert.equal(progress.running, true);
      assert.ok(progress.done <= progress.total);
      gate.release();
      const done = await pending;
      assert.equal(done.statusCode, 200, done.body);
      assert.equal(done.json<Verification>().entries, 3);
      assert.deepEqual((await plane.app.inject({ method: 'GET', url: '/api/v1/audit/verify' })).json(), { running: false, done: 0, total: 0 });
    } finally {
      await plane.app.close();
    }
  });

  test('a second request joins the walk under way instead of starting another', async () => {
    const gate = new Gate();
    const runs = new VerificationRuns({ ...opened.database, db: opened.database.db.withPlugin(gate) });
    const first = runs.run();
    const second = runs.run();
    assert.equal(first, second);
    await gate.reached;
    gate.release();
    assert.equal((await first).entries, 3);
    assert.equal(gate.walks, 1, 'one walk served both');
    const again = runs.run();
    assert.notEqual(again, first, 'a finished walk is not reused');
    await again;
    assert.equal(gate.walks, 2);
  });
});

describe('audit routes on a running server', () => {
  let rampart: TestRampart;
  let dispatcher: SignedIn;
  let auditor: SignedIn;

  before(async () => {
    rampart = await startTestRampart();
    const admin = await signInAdmin(rampart);
    dispatcher = await createSignedInUser(rampart, admin, 'dora', 'dispatcher');
    auditor = await createSignedInUser(rampart, admin, 'otto', 'auditor');
  });
  after(() => rampart.stop());

  test('a role without audit.read is refused with 403 on each; the auditor gets through', async () => {
    const calls: Array<[string, string]> = [['GET', '/api/v1/audit/entries/1'], ['POST', '/api/v1/audit/verify'], ['GET', '/api/v1/audit/verify'], ['GET', '/api/v1/audit/export']];
    for (const [method, path] of calls) {
      const refused = await dispatcher.browser.request(method, path, method === 'POST' ? {} : undefined);
      assert.equal(refused.status, 403, `${method} ${path}`);
      assert.equal(refused.body['code'], 'access.denied', `${method} ${path}`);
      const allowed = await auditor.browser.request(method, path, method === 'POST' ? {} : undefined);
      assert.equal(allowed.status, 200, `${method} ${path}: ${JSON.stringify(allowed.body)}`);
    }
    const report = (await auditor.browser.post<Verification>('/api/v1/audit/verify', {})).body;
    assert.equal(report.ok, true);
    assert.ok(report.entries >= 5, 'setting up the accounts was audited');
  });
});
