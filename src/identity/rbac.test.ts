import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { renderPermissionsDoc } from './permissions-doc.ts';
import { can, canSeeAccount, listScope, PERMISSIONS, ROLES, scopeFor, STEP_UP, type AccountActor, type Role, type ServiceActor } from './rbac.ts';

const actor = (role: Role, id = `acct_${role}`, depots: string[] | null = null): AccountActor => ({ kind: 'account', id, username: role, role, depots, sessionId: 'sess_1', authMethod: 'password+totp', mfaAt: null });

describe('can(actor, action, resource)', () => {
  test('denies by default: no actor, unknown grants', () => {
    for (const p of PERMISSIONS) assert.equal(can(undefined, p), false, p);
  });

  test('a driver sees only objects they own', () => {
    const driver = actor('driver', 'acct_d1');
    assert.equal(can(driver, 'route.read', { type: 'route', ownerId: 'acct_d1' }), true);
    assert.equal(can(driver, 'route.read', { type: 'route', ownerId: 'acct_d2' }), false);
    assert.equal(can(driver, 'route.read', { type: 'route' }), false, 'an object with no owner is not theirs');
    assert.equal(can(driver, 'route.manage'), false);
  });

  test('a dispatcher limited to depots sees only those depots; an unlimited one sees all', () => {
    const limited = actor('dispatcher', 'acct_x', ['north']);
    assert.equal(can(limited, 'shipment.read', { type: 'shipment', depotId: 'north' }), true);
    assert.equal(can(limited, 'shipment.read', { type: 'shipment', depotId: 'south' }), false);
    assert.equal(can(actor('dispatcher'), 'shipment.read', { type: 'shipment', depotId: 'south' }), true);
  });

  test('service principals get exactly their scopes', () => {
    const service: ServiceActor = { kind: 'service', id: 'sp_1', name: 'bi', scopes: ['telemetry.read'], tokenId: 'jti' };
    assert.equal(can(service, 'telemetry.read'), true);
    assert.equal(can(service, 'device.read'), false);
    assert.equal(can(service, 'user.read'), false);
  });

  test('only the owner or a user reader sees an account', () => {
    assert.equal(canSeeAccount(actor('driver', 'acct_me'), 'acct_me'), true);
    assert.equal(canSeeAccount(actor('driver', 'acct_me'), 'acct_other'), false);
    assert.equal(canSeeAccount(actor('admin'), 'acct_other'), true);
  });

  test('every sensitive permission is a step-up permission and is granted to someone', () => {
    for (const p of ['user.role.assign', 'user.mfa.reset', 'device.key.reveal', 'keys.rotate', 'pod.export'] as const) assert.ok(STEP_UP.has(p), p);
    for (const p of PERMISSIONS) assert.ok(ROLES.some((r) => can(actor(r), p)), `${p} is granted to no role`);
  });

  test('docs/PERMISSIONS.md matches the model (run `npm run docs` after changing it)', () => {
    assert.equal(readFileSync(new URL('../../docs/PERMISSIONS.md', import.meta.url), 'utf8'), renderPermissionsDoc());
  });
});

describe('scopeFor(actor, type): what a list shows', () => {
  test('denies by default: no actor, or a role without the read permission, lists nothing', () => {
    assert.equal(scopeFor(undefined, 'shipment'), 'none');
    assert.equal(scopeFor(actor('auditor'), 'device'), 'none');
    assert.equal(scopeFor(actor('driver'), 'route', 'route.manage'), 'none', 'the action asked for is the one checked');
    assert.throws(() => listScope(actor('auditor'), 'device'), (error: { code?: string }) => error.code === 'access.denied');
  });

  test('a driver lists only what they own, and nothing of types no account owns', () => {
    const driver = actor('driver', 'acct_d1');
    assert.deepEqual(scopeFor(driver, 'shipment'), { ownerId: 'acct_d1' });
    assert.deepEqual(scopeFor(driver, 'route'), { ownerId: 'acct_d1' });
    assert.equal(scopeFor(driver, 'depot'), 'none', 'no depot.read');
    assert.equal(scopeFor(driver, 'device', 'route.read'), 'none', 'even with a permission they hold, no device is theirs');
  });

  test('a dispatcher limited to depots lists those depots; an unlimited one and an administrator list everything', () => {
    assert.deepEqual(scopeFor(actor('dispatcher', 'acct_x', ['north']), 'shipment'), { depots: ['north'] });
    assert.deepEqual(scopeFor(actor('dispatcher', 'acct_x', ['north']), 'device'), { depots: ['north'] });
    assert.deepEqual(scopeFor(actor('dispatcher', 'acct_x', []), 'vehicle'), { depots: [] }, 'an empty scope sees no depot');
    assert.deepEqual(scopeFor(actor('dispatcher'), 'route'), {});
    assert.deepEqual(scopeFor(actor('admin'), 'device'), {});
    assert.deepEqual(scopeFor(actor('auditor'), 'depot'), {});
  });

  test('a list scope agrees with can() on each object it lets through', () => {
    const limited = actor('dispatcher', 'acct_x', ['north']);
    const scope = scopeFor(limited, 'shipment');
    assert.ok(scope !== 'none' && scope.depots !== undefined);
    for (const depotId of ['north', 'south']) assert.equal(scope.depots.includes(depotId), can(limited, 'shipment.read', { type: 'shipment', depotId }), depotId);
  });

  test('a service principal lists what its scopes grant, unfiltered', () => {
    const service: ServiceActor = { kind: 'service', id: 'sp_1', name: 'bi', scopes: ['device.read'], tokenId: 'jti' };
    assert.deepEqual(scopeFor(service, 'device'), {});
    assert.equal(scopeFor(service, 'shipment'), 'none');
  });
});
