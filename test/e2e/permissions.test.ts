import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import { installAccessControl, routesOf } from '../../src/identity/access.ts';
import { can, grants, PERMISSIONS, ROLES, type Role } from '../../src/identity/rbac.ts';
import type { PlaneApp } from '../../src/http/plane.ts';
import { ACCESS_DATE, accessWorld, type AccessWorld } from '../support/access-world.ts';
import { rawRequest } from '../support/delivery.ts';
import { createSignedInUser, freshSignIn, signInAdmin, startTestRampart, type ApiResponse, type SignedIn, type TestRampart } from '../support/identity.ts';

// The permission model is enforced on every API route: each one declares its
// access rule, and for every route guarded by a permission, each role either
// gets through the guard or is refused with 403, exactly as `can` says. The
// oracle below does not ask `can`: it is the expected answer written out by
// hand for the routes that matter most, so a wrong grant fails it.

describe('route permissions', () => {
  let rampart: TestRampart;
  const users = new Map<Role, SignedIn>();

  before(async () => {
    rampart = await startTestRampart();
    const admin = await signInAdmin(rampart);
    users.set('admin', admin);
    for (const role of ['dispatcher', 'driver', 'auditor'] as const) users.set(role, await createSignedInUser(rampart, admin, `${role}1`, role));
  });
  after(() => rampart.stop());

  test('every /api/ route on the app plane declares an access rule', () => {
    const routes = routesOf(rampart.running.planes.app.app).filter((r) => r.url.startsWith('/api/'));
    assert.ok(routes.length >= 20, `expected the API's routes, saw ${routes.length}`);
    const undeclared = routes.filter((r) => r.access === undefined).map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(undeclared, []);
    const unknown = routes.filter((r) => r.access !== undefined && 'permission' in r.access && !PERMISSIONS.includes(r.access.permission));
    assert.deepEqual(unknown, []);
  });

  test('every /api/ route is described in /api/v1/openapi.json, which anyone may fetch', async () => {
    const response = await fetch(`${rampart.url}/api/v1/openapi.json`);
    assert.equal(response.status, 200);
    const document = (await response.json()) as { openapi: string; paths: Record<string, Record<string, { responses?: object }>> };
    assert.equal(document.openapi, '3.1.0');
    const routes = routesOf(rampart.running.planes.app.app).filter((r) => r.url.startsWith('/api/') && r.method !== 'HEAD' && r.url !== '/api/v1/openapi.json');
    const missing = routes.filter((r) => document.paths[r.url.replace(/:([A-Za-z]+)/g, '{$1}')]?.[r.method.toLowerCase()]?.responses === undefined);
    assert.deepEqual(missing.map((r) => `${r.method} ${r.url}`), []);
    assert.ok(!Object.keys(document.paths).some((p) => !p.startsWith('/api/')), 'only the API is described');
  });

  test('a route without an access rule cannot even be registered', async () => {
    const app = Fastify() as unknown as PlaneApp;
    installAccessControl(app, { db: rampart.running.database.db, sessions: rampart.running.identity.sessions, clock: rampart.clock, stepUpMinutes: 5 });
    assert.throws(() => app.get('/api/v1/forgotten', () => Promise.resolve('open')), /declares no access rule/);
    await app.close();
  });

  test('each role passes or is refused by each permission guard exactly as can() says', async () => {
    const guarded = routesOf(rampart.running.planes.app.app)
      .filter((r) => r.url.startsWith('/api/') && r.access !== undefined && 'permission' in r.access && r.method !== 'HEAD')
      // Signing out everywhere ends the session the walk uses: last.
      .sort((a, b) => Number(a.url.endsWith('/logout-all')) - Number(b.url.endsWith('/logout-all')));
    const mismatches: string[] = [];
    for (const role of ROLES) {
      const user = users.get(role);
      assert.ok(user);
      for (const route of guarded) {
        const permission = (route.access as { permission: (typeof PERMISSIONS)[number] }).permission;
        // Parameters that match nothing: a route the role may use answers 4xx for the missing object, never 403.
        const path = route.url.replace(/:[A-Za-z]+/g, 'nonexistent');
        const response = await user.browser.request(route.method, path, route.method === 'GET' || route.method === 'DELETE' ? undefined : {});
        const refused = response.status === 403 && (response.body as { code?: string }).code === 'access.denied';
        const allowed = can({ kind: 'account', id: user.accountId, username: user.username, role, depots: null, sessionId: 's', authMethod: 'password', mfaAt: null }, permission);
        const passed = response.status !== 401 && response.status !== 403;
        if (allowed ? !passed : !refused) mismatches.push(`${role} ${route.method} ${route.url} (${permission}): status ${response.status}, can() says ${allowed}`);
      }
    }
    assert.deepEqual(mismatches, []);
  });

  test('the matrix is deny-by-default: only auditors read the audit trail; drivers manage nothing', () => {
    assert.deepEqual(ROLES.filter((r) => grants(r).includes('audit.read')), ['auditor']);
    assert.ok(!grants('driver').some((p) => p.endsWith('.manage')));
    assert.equal(can(undefined, 'account.self'), false);
  });
});

/** allowed: through the guard and the object is visible; shown/hidden: a shipment's detail with or without its recipient. */
type Outcome = 'allowed' | 'shown' | 'hidden' | 403 | 404 | 'step-up';
type Expected = readonly [admin: Outcome, dispatcher: Outcome, driver: Outcome, auditor: Outcome];
const ORACLE_ROLES = ['admin', 'dispatcher', 'driver', 'auditor'] as const;

/** The expected answers, by role; the dispatcher is limited to the north depot, the driver owns one north route. */
function oracle(ids: AccessWorld['ids']): [method: string, path: string, expected: Expected][] {
  return [
    ['GET', '/api/v1/users', ['allowed', 403, 403, 403]],
    ['POST', '/api/v1/users', ['allowed', 403, 403, 403]],
    ['PUT', `/api/v1/users/${ids.driver2}/role`, ['step-up', 403, 403, 403]],
    ['POST', '/api/v1/users/acct_nobody/reset-mfa', ['step-up', 403, 403, 403]],
    ['GET', `/api/v1/devices/${ids.northDevice}/keys`, ['step-up', 403, 403, 403]],
    ['POST', `/api/v1/devices/${ids.northDevice}/keys/secondary/rotate`, ['step-up', 403, 403, 403]],
    ['GET', '/api/v1/devices', ['allowed', 'allowed', 403, 403]],
    ['GET', `/api/v1/devices/${ids.southDevice}`, ['allowed', 404, 403, 403]],
    ['GET', '/api/v1/audit/entries', [403, 403, 403, 'allowed']],
    ['GET', '/api/v1/audit/entries/1', [403, 403, 403, 'allowed']],
    ['POST', '/api/v1/audit/verify', [403, 403, 403, 'allowed']],
    ['GET', '/api/v1/audit/verify', [403, 403, 403, 'allowed']],
    ['GET', '/api/v1/audit/export', [403, 403, 403, 'allowed']],
    ['GET', '/api/v1/shipments', ['allowed', 'allowed', 'allowed', 'allowed']],
    ['GET', `/api/v1/shipments/${ids.driver1Shipment}`, ['shown', 'shown', 'shown', 'hidden']],
    ['GET', `/api/v1/shipments/${ids.southShipment}`, ['shown', 404, 404, 'hidden']],
    ['GET', `/api/v1/shipments/${ids.southShipment}/history`, ['allowed', 404, 404, 'allowed']],
    ['GET', '/api/v1/shipments/export', ['step-up', 'step-up', 403, 403]],
    ['POST', '/api/v1/proofs/pod_nonexistent/export', [403, 'step-up', 403, 'step-up']],
    ['POST', '/api/v1/proofs/pod_nonexistent/shred', ['step-up', 403, 403, 403]],
    ['GET', '/api/v1/depots/south', ['allowed', 404, 403, 'allowed']],
    ['GET', '/api/v1/hubs', ['allowed', 'allowed', 403, 403]],
    ['POST', '/api/v1/hubs', ['step-up', 403, 403, 403]],
    ['GET', '/api/v1/webhooks', ['allowed', 403, 403, 403]],
    ['POST', '/api/v1/webhooks', ['step-up', 403, 403, 403]],
    ['GET', '/api/v1/service-principals', ['step-up', 403, 403, 403]],
    ['GET', '/api/v1/keys', ['step-up', 403, 403, 403]],
    ['POST', '/api/v1/keys/rotate', ['step-up', 403, 403, 403]],
    ['GET', '/api/v1/routes', [403, 'allowed', 'allowed', 403]],
    ['POST', '/api/v1/routes', [403, 'allowed', 403, 403]],
    ['GET', `/api/v1/routes/${ids.driver1Route}`, [403, 'allowed', 'allowed', 403]],
    ['GET', `/api/v1/routes/${ids.driver2Route}`, [403, 'allowed', 404, 403]],
    ['GET', `/api/v1/routes/${ids.southRoute}`, [403, 404, 404, 403]],
    ['GET', `/api/v1/driver/route?date=${ACCESS_DATE}`, [403, 404, 'allowed', 403]],
    ['GET', '/api/v1/no-fly-zones', [403, 'allowed', 'allowed', 403]],
  ];
}

function matches(outcome: Outcome, response: ApiResponse): boolean {
  const code = (response.body as { code?: string }).code;
  switch (outcome) {
    case 'allowed':
      return ![401, 403, 404].includes(response.status);
    case 'shown':
    case 'hidden':
      return response.status === 200 && (response.body['recipient'] === null) === (outcome === 'hidden');
    case 403:
      return response.status === 403 && code === 'access.denied';
    case 404:
      return response.status === 404;
    case 'step-up':
      return response.status === 401 && code === 'auth.step_up_required';
  }
}

describe('permission oracle and list scopes', () => {
  let rampart: TestRampart;
  let world: AccessWorld;
  const send = (browser: { request: (m: string, p: string, b?: unknown) => Promise<ApiResponse> }, method: string, path: string) => browser.request(method, path, method === 'GET' ? undefined : {});

  before(async () => {
    rampart = await startTestRampart();
    world = await accessWorld(rampart);
  });
  after(() => rampart.stop());

  test('each role gets the hand-written answer on the routes that matter most', async () => {
    // Second factors go stale, so step-up routes answer step_up_required to a role that holds the permission.
    rampart.clock.advance((rampart.config.identity.stepUpMinutes + 1) * 60_000);
    const mismatches: string[] = [];
    for (const [method, path, expected] of oracle(world.ids)) {
      for (const [i, role] of ORACLE_ROLES.entries()) {
        const outcome = expected[i] as Outcome;
        const browser = world.browsers.get(role);
        assert.ok(browser);
        const response = await send(browser, method, path);
        if (!matches(outcome, response)) mismatches.push(`${role} ${method} ${path}: expected ${outcome}, got ${response.status} ${String((response.body as { code?: string }).code)}`);
        if (outcome !== 'step-up') continue;
        // With a second factor just proven, the same request gets through the guard.
        const user = world.users.get(role);
        assert.ok(user);
        const fresh = await send(await freshSignIn(rampart, user), method, path);
        if (fresh.status === 401 || fresh.status === 403) mismatches.push(`${role} ${method} ${path} after step-up: got ${fresh.status}`);
      }
    }
    assert.deepEqual(mismatches, []);
  });

  test('lists show a depot-scoped dispatcher only their depots and a driver only their own', async () => {
    const { ids } = world;
    const list = async (role: (typeof ORACLE_ROLES)[number], path: string, key = 'id') => {
      const browser = world.browsers.get(role);
      assert.ok(browser);
      const response = await browser.get<{ items: Record<string, string>[] }>(path);
      assert.equal(response.status, 200, `${role} ${path}`);
      return response.body.items.map((item) => item[key]).sort();
    };
    assert.equal((await list('admin', '/api/v1/shipments')).length, ids.northShipments.length + 2, 'the administrator sees every depot');
    assert.deepEqual(await list('admin', '/api/v1/devices'), [ids.northDevice, ids.southDevice].sort());

    assert.deepEqual(await list('dispatcher', '/api/v1/shipments'), [...ids.northShipments].sort());
    assert.deepEqual(await list('dispatcher', '/api/v1/devices'), [ids.northDevice]);
    assert.deepEqual(await list('dispatcher', '/api/v1/devices/status'), [ids.northDevice]);
    assert.deepEqual(await list('dispatcher', '/api/v1/routes'), [ids.driver1Route, ids.driver2Route].sort());
    assert.deepEqual(await list('dispatcher', '/api/v1/depots'), ['north']);
    assert.deepEqual(await list('dispatcher', '/api/v1/vehicles'), ['n-van1', 'n-van2']);
    assert.deepEqual(await list('dispatcher', '/api/v1/drivers', 'accountId'), [ids.driver1, ids.driver2].sort());

    assert.deepEqual(await list('driver', '/api/v1/shipments'), [ids.driver1Shipment]);
    assert.deepEqual(await list('driver', '/api/v1/routes'), [ids.driver1Route]);

    const dispatcher = world.users.get('dispatcher');
    assert.ok(dispatcher);
    const csv = await rawRequest(await freshSignIn(rampart, dispatcher), 'GET', '/api/v1/shipments/export');
    assert.equal(csv.status, 200);
    assert.equal(csv.text.trim().split('\n').length, 1 + ids.northShipments.length, 'the export holds the north shipments only');
  });
});
