import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { auditEntries, createSignedInUser, signIn, signInAdmin, startTestRampart, type Browser, type SignedIn, type TestRampart } from '../support/identity.ts';
import { referenceClaims, referenceVerify } from '../support/sas-reference.ts';

// Device administration through the API: keys shown once, secrets behind a
// recent second factor, dispatchers read-only and limited to their depots.

type DeviceBody = { id: string; kind: string; name: string; depot: string; status: string; revision: number };
type Created = { device: DeviceBody; primaryKey: string; secondaryKey: string };

describe('device administration', () => {
  let rampart: TestRampart;
  let admin: SignedIn;

  before(async () => {
    rampart = await startTestRampart({ devices: { sasHosts: ['fleet.example.net'], maxTokenLifetimeSeconds: 86_400 } });
    admin = await signInAdmin(rampart);
  });
  after(() => rampart.stop());

  async function freshAdmin(): Promise<Browser> {
    rampart.clock.advance(30_000);
    return signIn(rampart, admin);
  }

  async function devicesSnapshot(): Promise<string> {
    const db = rampart.running.database.db;
    return JSON.stringify([await db.selectFrom('devices').selectAll().orderBy('id').execute(), await db.selectFrom('audit_entries').select('seq').orderBy('seq', 'desc').limit(1).execute()]);
  }

  test('creating a device returns its keys once; invalid input is refused and creates nothing', async () => {
    const browser = await freshAdmin();
    const before = await devicesSnapshot();
    const bad = [
      {},
      { id: 'd1', kind: 'drone', name: 'Kestrel' },
      { id: 'd1', kind: 'boat', name: 'Kestrel', depot: 'north' },
      { id: '../d1', kind: 'drone', name: 'Kestrel', depot: 'north' },
      { id: 'd1', kind: 'drone', name: '', depot: 'north' },
      { id: 'd1', kind: 'drone', name: 'Kestrel', depot: 'north', primaryKey: 'chosen-by-me' },
      { id: 'd1', kind: 'drone', name: 'Kestrel', depot: 'north', status: 'disabled' },
    ];
    for (const body of bad) {
      const refused = await browser.post('/api/v1/devices', body);
      assert.equal(refused.status, 400, JSON.stringify(body));
      assert.equal(refused.body['code'], 'request.invalid');
    }
    const notJson = await browser.request('POST', '/api/v1/devices', undefined, { 'content-type': 'application/json' });
    assert.equal(notJson.status, 400);
    assert.equal(await devicesSnapshot(), before, 'nothing written, nothing audited');

    const created = await browser.post<Created>('/api/v1/devices', { id: 'd1', kind: 'drone', name: 'Kestrel', depot: 'north' });
    assert.equal(created.status, 201);
    assert.equal(created.body.device.status, 'enabled');
    assert.equal(Buffer.from(created.body.primaryKey, 'base64').length, 32);
    const again = await browser.post('/api/v1/devices', { id: 'd1', kind: 'truck', name: 'Other', depot: 'south' });
    assert.equal(again.status, 409);
    assert.equal(again.body['code'], 'device.id_taken');

    const shown = await browser.get('/api/v1/devices/d1');
    assert.equal(shown.status, 200);
    assert.ok(!JSON.stringify(shown.body).includes(created.body.primaryKey), 'a device read never carries keys');
    assert.equal(shown.body['primaryKey'], undefined);
    assert.equal((await browser.get('/api/v1/devices/nobody')).status, 404);
    const entry = (await auditEntries(rampart, 'device.create')).at(-1);
    assert.ok(entry !== undefined);
    assert.equal(entry.target_id, 'd1');
    assert.equal(entry.actor_id, admin.accountId);
  });

  test('list filters and paginates', async () => {
    const browser = await freshAdmin();
    for (const [id, kind, depot] of [['t1', 'truck', 'south'], ['t2', 'truck', 'south'], ['t3', 'truck', 'north']] as const) {
      assert.equal((await browser.post('/api/v1/devices', { id, kind, name: `Truck ${id}`, depot })).status, 201);
    }
    const first = await browser.get<{ items: DeviceBody[]; nextCursor: string | null }>('/api/v1/devices?kind=truck&limit=2');
    assert.deepEqual(first.body.items.map((d) => d.id), ['t1', 't2']);
    assert.equal(first.body.nextCursor, 't2');
    const second = await browser.get<{ items: DeviceBody[]; nextCursor: string | null }>('/api/v1/devices?kind=truck&limit=2&cursor=t2');
    assert.deepEqual(second.body.items.map((d) => d.id), ['t3']);
    assert.equal(second.body.nextCursor, null);
    assert.deepEqual((await browser.get<{ items: DeviceBody[] }>('/api/v1/devices?depot=south')).body.items.map((d) => d.id), ['t1', 't2']);
    assert.equal((await browser.get('/api/v1/devices?limit=1000')).status, 400);
    assert.equal((await browser.get('/api/v1/devices?colour=red')).status, 400);
  });

  test('revealing or rotating keys and issuing tokens need a recent second factor and are audited', async () => {
    const browser = await freshAdmin();
    const created = await browser.post<Created>('/api/v1/devices', { id: 'd2', kind: 'drone', name: 'Swift', depot: 'north' });
    rampart.clock.advance(6 * 60_000);
    for (const [method, path, body] of [['GET', '/api/v1/devices/d2/keys', undefined], ['POST', '/api/v1/devices/d2/keys/primary/rotate', {}], ['POST', '/api/v1/devices/d2/token', { ttlSeconds: 3600 }]] as const) {
      const stale = await browser.request(method, path, body);
      assert.equal(stale.status, 401, path);
      assert.equal(stale.body['code'], 'auth.step_up_required');
    }
    assert.equal((await auditEntries(rampart, 'device.key_reveal')).length, 0);

    rampart.clock.advance(30_000);
    assert.equal((await browser.post('/api/v1/auth/mfa/totp', { code: admin.code() })).status, 200);
    const keys = await browser.get<{ primaryKey: string; secondaryKey: string }>('/api/v1/devices/d2/keys');
    assert.equal(keys.status, 200);
    assert.deepEqual(keys.body, { primaryKey: created.body.primaryKey, secondaryKey: created.body.secondaryKey });
    assert.equal((await auditEntries(rampart, 'device.key_reveal')).length, 1);

    const issued = await browser.post<{ token: string; resourceUri: string; expiresAt: string }>('/api/v1/devices/d2/token', { ttlSeconds: 3600 });
    assert.equal(issued.status, 200);
    assert.equal(issued.body.resourceUri, 'https://fleet.example.net/drone-telemetry/publishers/d2');
    assert.equal(await referenceVerify(issued.body.token, created.body.primaryKey, 'utf8'), true, 'signed with the primary key');
    const claims = referenceClaims(issued.body.token);
    assert.equal(claims.uri, issued.body.resourceUri);
    assert.equal(claims.expiry, Math.floor(rampart.clock.now().getTime() / 1000) + 3600);
    const mqtt = await browser.post<{ token: string; resourceUri: string }>('/api/v1/devices/d2/token', { ttlSeconds: 600, scope: 'mqtt' });
    assert.equal(mqtt.body.resourceUri, 'fleet.example.net/devices/d2');
    assert.equal((await auditEntries(rampart, 'device.token_issue')).length, 2);

    const before = await devicesSnapshot();
    for (const body of [{ ttlSeconds: 86_401 }, { ttlSeconds: 10 }, { ttlSeconds: 3600, hub: 'no-such-hub' }, { ttlSeconds: 3600, hub: '../x' }, { ttlSeconds: 3600, extra: 1 }]) {
      const refused = await browser.post('/api/v1/devices/d2/token', body);
      assert.ok(refused.status === 400 || refused.status === 404, `${JSON.stringify(body)}: ${refused.status}`);
    }
    assert.equal(await devicesSnapshot(), before, 'refused token requests are not audited as issued');

    const rotated = await browser.post<{ key: string; device: DeviceBody }>('/api/v1/devices/d2/keys/secondary/rotate', {});
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.key, created.body.secondaryKey);
    assert.equal(rotated.body.device.revision, 2);
    assert.equal((await browser.post('/api/v1/devices/d2/keys/tertiary/rotate', {})).status, 400);
  });

  test('disable, enable and thumbprints', async () => {
    const browser = await freshAdmin();
    await browser.post('/api/v1/devices', { id: 'd3', kind: 'drone', name: 'Merlin', depot: 'north' });
    const disabled = await browser.post<DeviceBody>('/api/v1/devices/d3/disable');
    assert.equal(disabled.body.status, 'disabled');
    assert.equal((await browser.post<DeviceBody>('/api/v1/devices/d3/enable')).body.status, 'enabled');
    const thumbprint = 'ef'.repeat(32);
    const set = await browser.request<{ thumbprints: string[] }>('PUT', '/api/v1/devices/d3/thumbprints', { thumbprints: [thumbprint] });
    assert.equal(set.status, 200);
    assert.deepEqual(set.body.thumbprints, [thumbprint]);
    assert.equal((await browser.request('PUT', '/api/v1/devices/d3/thumbprints', { thumbprints: ['xyz'] })).status, 400);
    assert.equal((await browser.post('/api/v1/devices/nobody/disable')).status, 404);
    assert.deepEqual((await auditEntries(rampart, 'device.disable')).map((e) => e.target_id), ['d3']);
  });

  test('devices changed through the API are changed through the registry the device authenticator watches, so it re-checks them at once', async () => {
    const browser = await freshAdmin();
    const heard: string[] = [];
    const unsubscribe = rampart.running.deviceRegistry.onChange((id) => heard.push(id));
    try {
      assert.equal((await browser.post('/api/v1/devices', { id: 'd4', kind: 'drone', name: 'Nimue', depot: 'north' })).status, 201);
      assert.equal((await browser.post('/api/v1/devices/d4/disable')).status, 200);
    } finally {
      unsubscribe();
    }
    assert.deepEqual(heard, ['d4', 'd4'], 'the creation and the disabling');
  });

  test('a dispatcher can list and read devices of their depots but not create, change or reveal', async () => {
    const browser = await freshAdmin();
    const dispatcher = await createSignedInUser(rampart, { ...admin, browser }, 'dora', 'dispatcher');
    const before = await devicesSnapshot();
    assert.equal((await dispatcher.browser.get('/api/v1/devices')).status, 200);
    assert.equal((await dispatcher.browser.get('/api/v1/devices/d1')).status, 200);
    for (const [method, path, body] of [
      ['POST', '/api/v1/devices', { id: 'd9', kind: 'drone', name: 'Rogue', depot: 'north' }],
      ['POST', '/api/v1/devices/d1/disable', undefined],
      ['GET', '/api/v1/devices/d1/keys', undefined],
      ['POST', '/api/v1/devices/d1/token', { ttlSeconds: 3600 }],
    ] as const) {
      const refused = await dispatcher.browser.request(method, path, body);
      assert.equal(refused.status, 403, path);
      assert.equal(refused.body['code'], 'access.denied');
    }
    assert.equal(await devicesSnapshot(), before);

    const scoped = await browser.request('PUT', `/api/v1/users/${dispatcher.accountId}/depots`, { depots: ['south'] });
    assert.equal(scoped.status, 200);
    const dispatcherAgain = await signIn(rampart, dispatcher);
    const visible = await dispatcherAgain.get<{ items: DeviceBody[] }>('/api/v1/devices');
    assert.ok(visible.body.items.length > 0 && visible.body.items.every((d) => d.depot === 'south'));
    const hidden = await dispatcherAgain.get('/api/v1/devices/d1');
    assert.equal(hidden.status, 404, 'outside the depot scope: not found, like a device that does not exist');
    assert.equal(hidden.body['code'], 'device.not_found');
  });
});
