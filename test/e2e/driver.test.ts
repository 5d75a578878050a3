import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { recipientFor, shipmentBody } from '../support/delivery.ts';
import { auditEntries, signInAdmin, startTestRampart, type SignedIn, type TestRampart } from '../support/identity.ts';
import { DATE, pointAt, routeSnapshot, routeWorld, type RouteWorld } from '../support/routes.ts';

// The driver app's API end to end: the driver's own route and stops (another
// driver's answer 404 exactly like missing ones), what is needed at the door,
// starting the route, arriving, failed attempts, and location pings appended
// to the truck-telemetry hub under the driver's identity.

type Stop = { id: string; shipmentId: string; status: string };
type Route = { id: string; status: string; stops: Stop[] };

describe('driver API', () => {
  let rampart: TestRampart;
  let admin: SignedIn;
  let world: RouteWorld;
  let route: Route;
  const recipient = recipientFor('door');
  const db = () => rampart.running.database.db;

  before(async () => {
    rampart = await startTestRampart();
    admin = await signInAdmin(rampart);
    world = await routeWorld(rampart, admin, { drivers: ['ddrivera', 'ddriverb'], tag: 'd' });
    const creator = await world.fresh(admin);
    const ids: string[] = [];
    for (const [i, bearing] of [0, 90, 180].entries()) {
      const created = await creator.post<{ shipment: { id: string } }>('/api/v1/shipments', shipmentBody({ destination: pointAt(bearing, 2), window: { start: `${DATE}T08:00:00Z`, end: `${DATE}T18:00:00Z` }, requiredProof: ['signature', 'photo'] }, i === 0 ? recipient : recipientFor()));
      ids.push(created.body.shipment.id);
    }
    const [driverA] = world.drivers;
    assert.ok(driverA);
    const created = await (await world.fresh(world.dispatcher)).post<Route>('/api/v1/routes', { driverId: driverA.accountId, vehicleId: 'd-van1', date: DATE, shipmentIds: ids, optimise: false });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    route = created.body;
  });
  after(() => rampart.stop());

  test('a driver gets their route with its map; another driver\'s route and stops answer 404 like missing ones', async () => {
    const [driverA, driverB] = world.drivers;
    assert.ok(driverA && driverB);
    const mine = await (await world.fresh(driverA)).get<{ route: Route; map: { type: string; features: unknown[] } }>(`/api/v1/driver/route?date=${DATE}`);
    assert.equal(mine.status, 200, JSON.stringify(mine.body));
    assert.equal(mine.body.route.id, route.id);
    assert.equal(mine.body.map.type, 'FeatureCollection');
    assert.equal(mine.body.map.features.length, 5);
    assert.equal((await (await world.fresh(driverA)).get('/api/v1/driver/route?date=2026-07-09')).status, 404);
    assert.equal((await (await world.fresh(driverA)).get('/api/v1/driver/route?date=tomorrow')).status, 400);

    const other = await world.fresh(driverB);
    assert.equal((await other.get(`/api/v1/driver/route?date=${DATE}`)).status, 404);
    const stopId = route.stops[0]?.id ?? '';
    const hidden = await other.get(`/api/v1/driver/stops/${stopId}`);
    const missing = await other.get(`/api/v1/driver/stops/stp_${'A'.repeat(22)}`);
    assert.equal(hidden.status, 404);
    assert.deepEqual({ ...hidden.body, requestId: '' }, { ...missing.body, requestId: '' });
    const hiddenRoute = await other.get(`/api/v1/routes/${route.id}`);
    const missingRoute = await other.get(`/api/v1/routes/rte_${'A'.repeat(22)}`);
    assert.equal(hiddenRoute.status, 404);
    assert.deepEqual({ ...hiddenRoute.body, requestId: '' }, { ...missingRoute.body, requestId: '' });
    const before = await routeSnapshot(db());
    for (const [path, body] of [
      ['/api/v1/driver/route/start', { routeId: route.id }],
      [`/api/v1/driver/stops/${stopId}/arrive`, {}],
      [`/api/v1/driver/stops/${stopId}/fail`, { reason: 'weather' }],
    ] as const) assert.equal((await other.post(path, body)).status, 404, path);
    assert.equal(await routeSnapshot(db()), before);
  });

  test('stop detail carries the recipient, required proof and window for the door', async () => {
    const [driverA] = world.drivers;
    assert.ok(driverA);
    const stop = route.stops[0];
    assert.ok(stop);
    const door = await (await world.fresh(driverA)).get<{ recipient: unknown; shipment: { requiredProof: string[] }; stop: { window: { start: string } } }>(`/api/v1/driver/stops/${stop.id}`);
    assert.equal(door.status, 200, JSON.stringify(door.body));
    assert.deepEqual(door.body.recipient, recipient);
    assert.deepEqual(door.body.shipment.requiredProof, ['signature', 'photo']);
    assert.equal(door.body.stop.window.start, `${DATE}T08:00:00.000Z`);
  });

  test('start sends every shipment out for delivery; arrive and fail record the visit; bad input changes nothing', async () => {
    const [driverA] = world.drivers;
    assert.ok(driverA);
    const browser = await world.fresh(driverA);
    const stop = route.stops[0];
    assert.ok(stop);
    const before = await routeSnapshot(db());
    for (const [path, body, status] of [
      ['/api/v1/driver/route/start', {}, 400],
      ['/api/v1/driver/route/start', { routeId: route.id, now: true }, 400],
      [`/api/v1/driver/stops/${stop.id}/arrive`, {}, 409],
      [`/api/v1/driver/stops/${stop.id}/fail`, { reason: 'bored' }, 400],
      [`/api/v1/driver/stops/${stop.id}/fail`, { reason: 'weather' }, 409],
    ] as const) assert.equal((await browser.post(path, body)).status, status, `${path} ${JSON.stringify(body)}`);
    assert.equal(await routeSnapshot(db()), before);

    const started = await browser.post<Route>('/api/v1/driver/route/start', { routeId: route.id });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    assert.equal(started.body.status, 'in_progress');
    for (const s of route.stops) assert.equal((await browser.get<{ status: string }>(`/api/v1/shipments/${s.shipmentId}`)).body.status, 'out_for_delivery');
    assert.equal((await browser.post('/api/v1/driver/route/start', { routeId: route.id })).status, 409, 'only once');

    assert.equal((await browser.post<Route>(`/api/v1/driver/stops/${stop.id}/arrive`, {})).body.stops[0]?.status, 'arrived');
    const failed = await browser.post<Route>(`/api/v1/driver/stops/${stop.id}/fail`, { reason: 'other', note: 'Gate locked, dog in the yard' });
    assert.equal(failed.status, 200, JSON.stringify(failed.body));
    assert.equal(failed.body.stops[0]?.status, 'failed');
    const shipment = await browser.get<{ status: string; failureReason: string }>(`/api/v1/shipments/${stop.shipmentId}`);
    assert.deepEqual([shipment.body.status, shipment.body.failureReason], ['failed', 'other']);
    const history = await browser.get<{ items: { note: string | null }[] }>(`/api/v1/shipments/${stop.shipmentId}/history`);
    assert.equal(history.body.items.at(-1)?.note, 'Gate locked, dog in the yard');
    const stored = await db().selectFrom('shipment_events').select('note').where('shipment_id', '=', stop.shipmentId).where('to_status', '=', 'failed').executeTakeFirstOrThrow();
    assert.match(stored.note ?? '', /^rk1\./, 'the note is encrypted');
    assert.equal((await auditEntries(rampart, 'route.stop_fail')).length, 1);

    // Failing the remaining stops completes the route.
    for (const s of failed.body.stops.slice(1)) assert.equal((await browser.post(`/api/v1/driver/stops/${s.id}/fail`, { reason: 'recipient_absent' })).status, 200);
    const done = await browser.get<Route>(`/api/v1/routes/${route.id}`);
    assert.equal(done.body.status, 'completed');
    const kinds = (await db().selectFrom('route_events').select('kind').where('route_id', '=', route.id).orderBy('seq').execute()).map((e) => e.kind);
    assert.deepEqual(kinds, ['created', 'started', 'completed']);
  });

  test('location pings are appended to truck-telemetry as the driver, flagged for the missing odometer, and rate-limited', async () => {
    const [driverA] = world.drivers;
    assert.ok(driverA);
    const browser = await world.fresh(driverA);
    const eventLog = rampart.running.eventLog;
    const count = async () => {
      let n = 0;
      for (let p = 0; p < 4; p++) n += (await eventLog.read('truck-telemetry', p, { sequence: 1 }, 1000)).length;
      return n;
    };
    const before = await count();
    for (const body of [{ lat: 52.5, lon: 13.4 }, { lat: 95, lon: 13.4, accuracyM: 5, timestamp: '2026-07-01T09:00:00Z' }, { lat: 52.5, lon: 13.4, accuracyM: 5, timestamp: 'now' }, { lat: 52.5, lon: 13.4, accuracyM: 5, timestamp: '2026-07-01T09:00:00Z', odometer: 3 }]) {
      assert.equal((await browser.post('/api/v1/driver/location', body)).status, 400, JSON.stringify(body));
    }
    assert.equal(await count(), before);

    const ping = await browser.post<{ hub: string; partition: number; sequence: number; flagged: boolean }>('/api/v1/driver/location', { lat: 52.51, lon: 13.41, accuracyM: 8, speed: 7.5, heading: 90, timestamp: '2026-07-01T09:00:00Z' });
    assert.equal(ping.status, 202, JSON.stringify(ping.body));
    const [event] = await eventLog.read('truck-telemetry', ping.body.partition, { sequence: ping.body.sequence }, 1);
    assert.ok(event);
    assert.equal(event.publisher, `driver-${driverA.accountId}`);
    assert.deepEqual(JSON.parse(event.body.toString('utf8')), { lat: 52.51, lon: 13.41, speed: 7.5, heading: 90, timestamp: '2026-07-01T09:00:00Z' });
    assert.equal(event.properties['source'], 'driver-app');
    assert.equal(event.properties['accuracyM'], '8');
    assert.equal(event.properties['rampart-schema-invalid'], 'true');
    assert.match(event.properties['rampart-schema-problem'] ?? '', /odometer/);
    assert.equal(ping.body.flagged, true);

    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) statuses.push((await browser.post('/api/v1/driver/location', { lat: 52.51, lon: 13.41, accuracyM: 8, timestamp: new Date(Date.parse('2026-07-01T10:00:00Z') + i * 1000).toISOString() })).status);
    assert.equal(statuses.filter((s) => s === 202).length, 29, 'thirty pings a minute (one was sent above)');
    assert.equal(statuses.at(-1), 429);
    rampart.clock.advance(60_000);
    assert.equal((await (await world.fresh(driverA)).post('/api/v1/driver/location', { lat: 52.51, lon: 13.41, accuracyM: 8, timestamp: '2026-07-01T11:00:00Z' })).status, 202);
  });
});
