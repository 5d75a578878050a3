import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import { installAccessControl, routesOf } from '../../src/identity/access.ts';
import { can, grants, PERMISSIONS, ROLES, type Role } from '../../src/identity/rbac.ts';
import type { PlaneApp } from '../../src/http/plane.ts';
import { createSignedInUser, signInAdmin, startTestRampart, type SignedIn, type TestRampart } from '../support/identity.ts';

// The permission model is enforced on every API route: each one declares its
// access rule, and for every route guarded by a permission, each role either
// gets through the guard or is refused with 403, exactly as `can` says.

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
