import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDevice, hubEvents, outsideRegistry, publish, publisherToken, truckReading, type TestDevice } from '../support/devices.ts';
import { auditEntries, createSignedInUser, freshSignIn, signInAdmin, startTestRampart, type SignedIn, type TestRampart } from '../support/identity.ts';

// Event hubs created and changed through the API: administrators only, with a
// recent second factor, every change audited; a new hub takes device traffic
// at once and changed content rules apply to the next request; configured
// hubs stay the configuration's.

const HUB = 'parcel-lockers';
type HubView = { name: string; origin: string; partitions: number; retentionHours: number; retentionMaxBytes: number; schema: string; onInvalid: string; allowNonJson: boolean; createdAt: string; updatedAt: string };

describe('hub administration API', () => {
  let rampart: TestRampart;
  let admin: SignedIn;
  let device: TestDevice;

  before(async () => {
    rampart = await startTestRampart();
    admin = await signInAdmin(rampart);
    device = await createTestDevice(outsideRegistry(rampart.running, rampart.clock), { id: 'locker-07', kind: 'truck' });
  });
  after(() => rampart.stop());

  /** A fresh sign-in: its second factor is recent, as hub changes require. */
  const freshAdmin = () => freshSignIn(rampart, admin);

  const send = (body: string | Uint8Array, contentType = 'application/json', token = publisherToken(device, { hub: HUB, key: device.primaryKey, clock: rampart.clock })) =>
    publish(rampart.running, { hub: HUB, deviceId: device.id, token, body, contentType });

  /** The hubs as the event log serves them, and the audit trail's head: what a refused request must leave alone. */
  async function snapshot(): Promise<string> {
    const head = await rampart.running.database.db.selectFrom('audit_entries').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst();
    return JSON.stringify({ hubs: [...rampart.running.eventLog.hubs.values()], head: head?.seq });
  }

  test('an administrator creates a hub; a device publishes to it at once; it is listed with origin and settings, and audited', async () => {
    const browser = await freshAdmin();
    assert.equal((await send(JSON.stringify(truckReading()))).status, 404, 'no such hub yet');

    const created = await browser.post<HubView>('/api/v1/hubs', { name: HUB, partitions: 2, allowNonJson: true });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const now = rampart.clock.now().toISOString();
    assert.deepEqual(created.body, {
      name: HUB,
      origin: 'api',
      partitions: 2,
      retentionHours: 168,
      retentionMaxBytes: 1_073_741_824,
      schema: 'none',
      onInvalid: 'refuse',
      allowNonJson: true,
      createdAt: now,
      updatedAt: now,
    });

    const sent = await send(Buffer.from([0xde, 0xad, 0xbe, 0xef]), 'application/octet-stream');
    assert.equal(sent.status, 201, sent.text);
    const stored = await hubEvents(rampart.running, HUB);
    assert.deepEqual(stored.map((e) => [e.publisher, e.contentType, e.body.toString('hex')]), [[device.id, 'application/octet-stream', 'deadbeef']]);

    const listed = await browser.get<{ hubs: HubView[] }>('/api/v1/hubs');
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.hubs.find((h) => h.name === HUB), created.body);
    const drones = listed.body.hubs.find((h) => h.name === 'drone-telemetry');
    assert.deepEqual({ ...drones, createdAt: undefined, updatedAt: undefined }, {
      name: 'drone-telemetry',
      origin: 'config',
      partitions: 4,
      retentionHours: 168,
      retentionMaxBytes: 1_073_741_824,
      schema: 'drone',
      onInvalid: 'refuse',
      allowNonJson: false,
      createdAt: undefined,
      updatedAt: undefined,
    });

    const [entry] = await auditEntries(rampart, 'hub.create');
    assert.ok(entry !== undefined);
    assert.deepEqual([entry.target_type, entry.target_id, entry.actor_id, entry.outcome], ['hub', HUB, admin.accountId, 'success']);
    assert.deepEqual(JSON.parse(entry.details), {
      before: null,
      after: { partitions: 2, retentionHours: 168, retentionMaxBytes: 1_073_741_824, schema: 'none', onInvalid: 'refuse', allowNonJson: true },
    });
  });

  test('a device token may name a hub created through the API', async () => {
    const browser = await freshAdmin();
    const issued = await browser.post<{ token: string; resourceUri: string }>(`/api/v1/devices/${device.id}/token`, { ttlSeconds: 3600, hub: HUB });
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    assert.equal(issued.body.resourceUri, `https://localhost/${HUB}/publishers/${device.id}`);
    const sent = await send(JSON.stringify(truckReading()), 'application/json', issued.body.token);
    assert.equal(sent.status, 201, sent.text);
  });

  test('changed content rules and retention apply to the next request, each change audited with before and after', async () => {
    const browser = await freshAdmin();
    const changed = await browser.request<HubView>('PATCH', `/api/v1/hubs/${HUB}`, { schema: 'truck', allowNonJson: false, retentionHours: 24 });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.deepEqual([changed.body.schema, changed.body.allowNonJson, changed.body.retentionHours, changed.body.partitions, changed.body.origin], ['truck', false, 24, 2, 'api']);
    assert.equal(changed.body.updatedAt, rampart.clock.now().toISOString());
    assert.equal(rampart.running.eventLog.hubs.get(HUB)?.retentionHours, 24);

    const binary = await send(Buffer.from([1, 2, 3]), 'application/octet-stream');
    assert.equal(binary.status, 415, 'binary bodies are no longer accepted');
    const notTruck = await send(JSON.stringify({ lat: 1 }));
    assert.equal(notTruck.status, 400);
    assert.equal(notTruck.problem?.code, 'ingest.invalid_event');
    assert.match(notTruck.problem.detail ?? '', /truck telemetry schema/);
    assert.equal((await send(JSON.stringify(truckReading()))).status, 201);

    assert.equal((await browser.request('PATCH', `/api/v1/hubs/${HUB}`, { onInvalid: 'flag' })).status, 200);
    assert.equal((await send(JSON.stringify({ lat: 2 }))).status, 201, 'flagged, not refused');
    const flagged = (await hubEvents(rampart.running, HUB)).find((e) => e.body.toString() === JSON.stringify({ lat: 2 }));
    assert.equal(flagged?.properties['rampart-schema-invalid'], 'true');

    const entries = (await auditEntries(rampart, 'hub.update')).map((e) => JSON.parse(e.details) as { before: Record<string, unknown>; after: Record<string, unknown>; changed: string[] });
    assert.deepEqual(entries.map((e) => e.changed), [['retentionHours', 'schema', 'allowNonJson'], ['onInvalid']]);
    assert.deepEqual([entries[0]?.before['schema'], entries[0]?.after['schema'], entries[1]?.before['onInvalid'], entries[1]?.after['onInvalid']], ['none', 'truck', 'refuse', 'flag']);
  });

  test('bad input is refused with a clear 4xx and changes neither the hubs nor the audit trail', async () => {
    const browser = await freshAdmin();
    const before = await snapshot();
    const invalid: unknown[] = [
      {},
      { name: '' },
      { name: 'Parcel' },
      { name: 'has space' },
      { name: '../up' },
      { name: 'x'.repeat(51) },
      { name: 'fine', partitions: 0 },
      { name: 'fine', partitions: 65 },
      { name: 'fine', retentionHours: 0 },
      { name: 'fine', retentionMaxBytes: 1000 },
      { name: 'fine', schema: 'bus' },
      { name: 'fine', onInvalid: 'ignore' },
      { name: 'fine', origin: 'config' },
      { name: 'fine', colour: 'red' },
    ];
    for (const body of invalid) {
      const refused = await browser.post('/api/v1/hubs', body);
      assert.equal(refused.status, 400, JSON.stringify(body));
      assert.equal(refused.body['code'], 'request.invalid');
    }
    for (const name of ['drone-telemetry', HUB]) {
      const taken = await browser.post('/api/v1/hubs', { name });
      assert.equal(taken.status, 409, name);
      assert.equal(taken.body['code'], 'hub.name_taken');
      assert.match(String(taken.body['detail']), new RegExp(name));
    }

    const configured = await browser.request('PATCH', '/api/v1/hubs/drone-telemetry', { retentionHours: 1 });
    assert.equal(configured.status, 409);
    assert.equal(configured.body['code'], 'hub.configured');
    assert.match(String(configured.body['detail']), /change it in the configuration/);

    const repartition = await browser.request('PATCH', `/api/v1/hubs/${HUB}`, { partitions: 4 });
    assert.equal(repartition.status, 409);
    assert.equal(repartition.body['code'], 'hub.partitions_fixed');
    assert.match(String(repartition.body['detail']), /has 2 partitions/);
    assert.match(String(repartition.body['detail']), /break the order of their events/);

    for (const body of [{}, { name: 'renamed' }, { retentionHours: 0 }, { schema: 'bus' }, { origin: 'config' }]) {
      const refused = await browser.request('PATCH', `/api/v1/hubs/${HUB}`, body);
      assert.equal(refused.status, 400, JSON.stringify(body));
      assert.equal(refused.body['code'], 'request.invalid');
    }
    const unknown = await browser.request('PATCH', '/api/v1/hubs/no-such-hub', { retentionHours: 2 });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body['code'], 'ingest.unknown_hub');
    assert.equal((await browser.request('PATCH', '/api/v1/hubs/Bad_Name', { retentionHours: 2 })).status, 400);

    assert.equal(await snapshot(), before, 'no hub changed, nothing audited');
  });

  test('creating and changing hubs needs an administrator with a recent second factor', async () => {
    const browser = await freshAdmin();
    const dispatcher = await createSignedInUser(rampart, admin, 'dispatcher1', 'dispatcher');
    const before = await snapshot();
    const refused = await dispatcher.browser.post('/api/v1/hubs', { name: 'dispatch-notes' });
    assert.equal(refused.status, 403);
    assert.equal(refused.body['code'], 'access.denied');
    assert.equal((await dispatcher.browser.request('PATCH', `/api/v1/hubs/${HUB}`, { retentionHours: 2 })).status, 403);
    assert.equal((await dispatcher.browser.get('/api/v1/hubs')).status, 200, 'dispatchers read the list');

    rampart.clock.advance(6 * 60_000);
    for (const [method, path, body] of [['POST', '/api/v1/hubs', { name: 'dispatch-notes' }], ['PATCH', `/api/v1/hubs/${HUB}`, { retentionHours: 2 }]] as const) {
      const stale = await browser.request(method, path, body);
      assert.equal(stale.status, 401, path);
      assert.equal(stale.body['code'], 'auth.step_up_required');
    }
    assert.equal(await snapshot(), before, 'refused requests changed nothing');

    rampart.clock.advance(30_000);
    assert.equal((await browser.post('/api/v1/auth/mfa/totp', { code: admin.code() })).status, 200);
    assert.equal((await browser.post('/api/v1/hubs', { name: 'dispatch-notes' })).status, 201);
  });
});
