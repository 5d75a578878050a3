import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DeviceStatusBoard } from '../../src/telemetry/status.ts';
import { createTestDevice, droneReading, outsideRegistry, publish, publisherToken, type TestDevice } from '../support/devices.ts';
import { createSignedInUser, signIn, signInAdmin, startTestRampart, type Browser, type SignedIn, type TestRampart } from '../support/identity.ts';
import { sseStream, type SseMessage } from '../support/sse.ts';

// The live view behind the console's map: last seen, last position, battery;
// and the stream of its changes the map follows.

type StatusItem = { id: string; depot: string; lastSeenAt: string | null; hub: string | null; reading: { lat: number; lon: number; battery: number | null; flightState: string | null; at: string } | null };

describe('device status', () => {
  let rampart: TestRampart;
  let admin: SignedIn;

  before(async () => {
    rampart = await startTestRampart();
    admin = await signInAdmin(rampart);
  });
  after(() => rampart.stop());

  test('a device\'s last reading shows up with its position and battery; a silent device shows none', async () => {
    const registry = outsideRegistry(rampart.running, rampart.clock);
    const flying = await createTestDevice(registry, { id: 'drone-map-1', kind: 'drone', depot: 'north' });
    await createTestDevice(registry, { id: 'drone-map-2', kind: 'drone', depot: 'south' });
    const token = publisherToken(flying, { hub: 'drone-telemetry', key: flying.primaryKey, clock: rampart.clock });
    for (const [lat, battery] of [[52.5, 90], [52.51, 88]] as const) {
      const sent = await publish(rampart.running, { hub: 'drone-telemetry', deviceId: flying.id, token, contentType: 'application/json', body: JSON.stringify(droneReading({ lat, battery })) });
      assert.equal(sent.status, 201);
    }
    const page = await admin.browser.get<{ items: StatusItem[] }>('/api/v1/devices/status?kind=drone');
    assert.equal(page.status, 200);
    const byId = new Map(page.body.items.map((d) => [d.id, d]));
    const one = byId.get('drone-map-1');
    assert.ok(one !== undefined && one.reading !== null);
    assert.equal(one.hub, 'drone-telemetry');
    assert.deepEqual({ lat: one.reading.lat, battery: one.reading.battery, flightState: one.reading.flightState }, { lat: 52.51, battery: 88, flightState: 'cruise' });
    assert.notEqual(one.lastSeenAt, null);
    const silent = byId.get('drone-map-2');
    assert.ok(silent !== undefined);
    assert.equal(silent.reading, null);
    assert.equal(silent.lastSeenAt, null);
  });

  test('a dispatcher limited to a depot sees only that depot\'s devices; a driver is refused', async () => {
    rampart.clock.advance(30_000);
    const dispatcher = await createSignedInUser(rampart, admin, 'map.south', 'dispatcher');
    assert.equal((await admin.browser.request('PUT', `/api/v1/users/${dispatcher.accountId}/depots`, { depots: ['south'] })).status, 200);
    rampart.clock.advance(30_000);
    const browser = await signIn(rampart, dispatcher);
    const page = await browser.get<{ items: StatusItem[] }>('/api/v1/devices/status');
    assert.equal(page.status, 200);
    assert.ok(page.body.items.length > 0 && page.body.items.every((d) => d.depot === 'south'));
    const driver = await createSignedInUser(rampart, admin, 'map.driver', 'driver');
    assert.equal((await driver.browser.get('/api/v1/devices/status')).status, 403);
    assert.equal((await admin.browser.get('/api/v1/devices/status?limit=0')).status, 400);
  });

  test('after a restart the board is rebuilt from the newest events in the log', async () => {
    const board = new DeviceStatusBoard();
    const replayed = await board.seed(rampart.running.eventLog);
    assert.ok(replayed >= 2);
    assert.equal(board.get('drone-map-1')?.reading?.lat, 52.51, 'the last reading wins');
  });
});

describe('device status stream', () => {
  let rampart: TestRampart;
  let admin: SignedIn;
  const registry = () => outsideRegistry(rampart.running, rampart.clock);

  before(async () => {
    // Sessions are checked again every 100 ms, so a logout ends a stream at once.
    rampart = await startTestRampart({ streams: { sessionCheckMs: 100, fleetBatchMs: 50 } });
    admin = await signInAdmin(rampart);
  });
  after(() => rampart.stop());

  /** Opens the stream with a browser's cookie and waits for its first line, after which every change is sent. */
  async function open(browser: Browser, query = '') {
    const response = await fetch(`${rampart.url}/api/v1/devices/status/stream${query}`, { headers: { cookie: browser.cookie ?? '' } });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const stream = sseStream(response);
    await stream.until((m) => m.length >= 1);
    return stream;
  }

  const items = (messages: SseMessage[]): StatusItem[] => messages.filter((m) => m.event === 'status').flatMap((m) => (JSON.parse(m.data ?? '{}') as { items: StatusItem[] }).items);

  const devices = new Map<string, TestDevice>();
  async function fly(id: string, depot: string, lat: number): Promise<void> {
    const device = devices.get(id) ?? (await createTestDevice(registry(), { id, depot }));
    devices.set(id, device);
    const token = publisherToken(device, { hub: 'drone-telemetry', key: device.primaryKey, clock: rampart.clock });
    const sent = await publish(rampart.running, { hub: 'drone-telemetry', deviceId: id, token, contentType: 'application/json', body: JSON.stringify(droneReading({ lat, battery: 70 })) });
    assert.equal(sent.status, 201, sent.text);
  }

  test('each acknowledged reading reaches an open stream with the device\'s new position', async () => {
    const stream = await open(admin.browser);
    await fly('stream-n1', 'north', 52.4);
    await fly('stream-n1', 'north', 52.45);
    const seen = await stream.until((m) => items(m).some((d) => d.id === 'stream-n1' && d.reading?.lat === 52.45));
    await stream.close();
    const last = items(seen).filter((d) => d.id === 'stream-n1').at(-1);
    assert.ok(last?.reading);
    assert.deepEqual({ depot: last.depot, hub: last.hub, lat: last.reading.lat, battery: last.reading.battery }, { depot: 'north', hub: 'drone-telemetry', lat: 52.45, battery: 70 });
    assert.notEqual(last.lastSeenAt, null);
  });

  test('a dispatcher limited to a depot is sent only that depot\'s devices; kind and depot filters hold', async () => {
    const dispatcher = await createSignedInUser(rampart, admin, 'stream.north', 'dispatcher');
    assert.equal((await admin.browser.request('PUT', `/api/v1/users/${dispatcher.accountId}/depots`, { depots: ['north'] })).status, 200);
    rampart.clock.advance(30_000);
    const browser = await signIn(rampart, dispatcher);
    const scoped = await open(browser);
    const filtered = await open(admin.browser, '?depot=south');
    // South first: had it been sent to the north dispatcher, it would arrive before or with north's reading.
    await fly('stream-s1', 'south', 48.1);
    await fly('stream-n1', 'north', 52.5);
    const seen = await scoped.until((m) => items(m).some((d) => d.id === 'stream-n1' && d.reading?.lat === 52.5));
    assert.deepEqual([...new Set(items(seen).map((d) => d.depot))], ['north']);
    const south = await filtered.until((m) => items(m).some((d) => d.id === 'stream-s1'));
    assert.ok(items(south).every((d) => d.depot === 'south'));
    await Promise.all([scoped.close(), filtered.close()]);
  });

  test('a driver is refused (403), no one signed in is refused (401), a bad filter is refused (400)', async () => {
    const driver = await createSignedInUser(rampart, admin, 'stream.driver', 'driver');
    const refused = await driver.browser.get('/api/v1/devices/status/stream');
    assert.equal(refused.status, 403);
    assert.equal(refused.body['code'], 'access.denied');
    assert.equal((await fetch(`${rampart.url}/api/v1/devices/status/stream`)).status, 401);
    const bad = await admin.browser.get('/api/v1/devices/status/stream?kind=submarine');
    assert.equal(bad.status, 400);
    assert.equal(bad.body['code'], 'request.invalid');
  });

  test('signing out ends the open stream', async () => {
    const dispatcher = await createSignedInUser(rampart, admin, 'stream.leaver', 'dispatcher');
    const stream = await open(dispatcher.browser);
    assert.equal((await dispatcher.browser.post('/api/v1/auth/logout')).status, 204);
    await stream.until(() => false, 10_000);
    assert.equal(stream.endedBy, 'server', 'the server ended the stream after the logout');
  });
});
