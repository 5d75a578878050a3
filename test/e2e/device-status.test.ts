import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DeviceStatusBoard } from '../../src/telemetry/status.ts';
import { createTestDevice, droneReading, outsideRegistry, publish, publisherToken } from '../support/devices.ts';
import { createSignedInUser, signIn, signInAdmin, startTestRampart, type SignedIn, type TestRampart } from '../support/identity.ts';

// The live view behind the console's map: last seen, last position, battery.

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
