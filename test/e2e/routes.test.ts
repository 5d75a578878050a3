import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import { createSasToken } from '../../src/crypto/sas.ts';
import { auditEntries, createSignedInUser, type ApiResponse, signInAdmin, startTestRampart, type SignedIn, type TestRampart } from '../support/identity.ts';
import { createTestDevice, DATE, fakeOsrm, NORTH, outsideRegistry, pointAt, routeSnapshot, routeWorld, type FakeOsrm, type RouteWorld } from '../support/routes.ts';

// Routes for dispatchers end to end, against a fake OSRM `table` service:
// creation with optimised order and road totals, a depot's day planned at
// once, reorder/remove/move with their history and assignments, the GeoJSON
// map, depot scopes, and drone missions refused with every reason or sent to
// a real MQTT subscriber. Every refused request leaves the tables and the
// audit trail as they were.

type Stop = { id: string; sequence: number; shipmentId: string; status: string; eta: string; trackingNumber: string };
type Route = { id: string; driverId: string; vehicleId: string; status: string; provider: string; totalDistanceMetres: number; totalDurationSeconds: number; stops: Stop[]; fallbackReason?: string; revision: number };
type History = { items: { kind: string; before: string[] | null; after: string[] | null; details: Record<string, unknown> }[] };
const HUB_HOST = 'fleet.example.net';
const DATE2 = '2026-07-02';
const window2 = { start: `${DATE2}T08:00:00Z`, end: `${DATE2}T18:00:00Z` };
const straightKm = (a: { lat: number; lon: number }, b: { lat: number; lon: number }) => {
  const rad = Math.PI / 180;
  const h = Math.sin(((b.lat - a.lat) * rad) / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(((b.lon - a.lon) * rad) / 2) ** 2;
  return 2 * 6371.0088 * Math.asin(Math.sqrt(h));
};

describe('routes', () => {
  let rampart: TestRampart;
  let osrm: FakeOsrm;
  let admin: SignedIn;
  let world: RouteWorld;
  const db = () => rampart.running.database.db;
  const snapshot = () => routeSnapshot(db());

  before(async () => {
    osrm = await fakeOsrm();
    const zone = [[[13.55, 52.45], [13.65, 52.45], [13.65, 52.6], [13.55, 52.6], [13.55, 52.45]]] as [number, number][][];
    rampart = await startTestRampart({ planning: { osrmUrl: osrm.url, noFlyZones: { 'Airport East': zone } }, devices: { sasHosts: [HUB_HOST] } });
    admin = await signInAdmin(rampart);
    world = await routeWorld(rampart, admin, { drivers: ['rdrivera', 'rdriverb', 'rdriverc', 'rdriverd'] });
  });
  after(async () => {
    await rampart.stop();
    await osrm.close();
  });

  test('creates a route: shipments assigned, stops in optimised order, totals from road distances', async () => {
    const browser = await world.fresh(world.dispatcher);
    const points = [pointAt(90, 2), pointAt(90, 6), pointAt(90, 4)];
    const ids = [];
    for (const p of points) ids.push(await world.shipment(p));
    const [driverA] = world.drivers;
    assert.ok(driverA);

    const drone = await world.shipment(pointAt(0, 1), { mode: 'drone' });
    const before = await snapshot();
    for (const [body, status] of [
      [{ driverId: driverA.accountId, vehicleId: 'r-van1', date: DATE, shipmentIds: ids, colour: 'red' }, 400],
      [{ driverId: driverA.accountId, vehicleId: 'r-van1', date: '2026-13-01', shipmentIds: ids }, 400],
      [{ driverId: driverA.accountId, vehicleId: 'r-van1', date: DATE, shipmentIds: [] }, 400],
      [{ driverId: driverA.accountId, vehicleId: 'r-van1', date: '2026-07-09', shipmentIds: ids }, 409],
      [{ driverId: driverA.accountId, vehicleId: 'nope', date: DATE, shipmentIds: ids }, 404],
      [{ driverId: admin.accountId, vehicleId: 'r-van1', date: DATE, shipmentIds: ids }, 404],
    ] as const) {
      const refused = await browser.post('/api/v1/routes', body);
      assert.equal(refused.status, status, `${JSON.stringify(body)} → ${JSON.stringify(refused.body)}`);
    }
    assert.equal((await browser.post('/api/v1/routes', { driverId: driverA.accountId, vehicleId: 'r-van1', date: DATE, shipmentIds: [...ids, drone] })).body['code'], 'delivery_route.shipment_unavailable');
    osrm.failWith = 500;
    const failed = await browser.post('/api/v1/routes', { driverId: driverA.accountId, vehicleId: 'r-van1', date: DATE, shipmentIds: ids });
    assert.equal(failed.status, 502);
    assert.equal(failed.body['code'], 'planning.routing_failed');
    assert.match(String(failed.body['detail']), /rejected/);
    osrm.failWith = undefined;
    assert.equal(await snapshot(), before, 'no route, stop, assignment or audit entry');

    const requestsBefore = osrm.requests.length;
    const created = await browser.post<Route>('/api/v1/routes', { driverId: driverA.accountId, vehicleId: 'r-van1', date: DATE, shipmentIds: ids });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.ok(osrm.requests.length > requestsBefore, 'the OSRM table service was asked');
    const route = created.body;
    assert.equal(route.provider, 'osrm');
    const order = route.stops.map((s) => s.shipmentId);
    assert.ok(JSON.stringify(order) === JSON.stringify([ids[0], ids[2], ids[1]]) || JSON.stringify(order) === JSON.stringify([ids[1], ids[2], ids[0]]), `stops in order along the street: ${JSON.stringify(order)}`);
    assert.deepEqual(route.stops.map((s) => s.sequence), [1, 2, 3]);
    const straight = 2 * straightKm(NORTH, pointAt(90, 6)) * 1000;
    assert.ok(Math.abs(route.totalDistanceMetres - 1.5 * straight) < 0.01 * straight, `road distance (1.5× the straight line) used: ${route.totalDistanceMetres} vs ${straight}`);
    assert.ok(route.totalDurationSeconds > 0);
    for (const stop of route.stops) assert.ok(!Number.isNaN(Date.parse(stop.eta)));
    for (const id of ids) {
      const shipment = await browser.get<{ status: string; assignedDriverId: string }>(`/api/v1/shipments/${id}`);
      assert.equal(shipment.body.status, 'assigned');
      assert.equal(shipment.body.assignedDriverId, driverA.accountId);
    }
    assert.equal((await auditEntries(rampart, 'route.create')).length, 1);
    const again = await browser.post('/api/v1/routes', { driverId: driverA.accountId, vehicleId: 'r-van2', date: DATE, shipmentIds: [drone] });
    assert.equal(again.status, 409, 'one route per driver and day; drone shipments refused');

    const map = await browser.get<{ type: string; features: { geometry: { type: string; coordinates: unknown }; properties: Record<string, unknown> }[] }>(`/api/v1/routes/${route.id}/map`);
    assert.equal(map.status, 200);
    assert.match(map.headers.get('content-type') ?? '', /geo\+json/);
    assert.equal(map.body.type, 'FeatureCollection');
    assert.deepEqual(map.body.features.map((f) => f.properties['kind']), ['depot', 'stop', 'stop', 'stop', 'path']);
    assert.deepEqual(map.body.features[0]?.geometry.coordinates, [NORTH.lon, NORTH.lat]);
    assert.deepEqual(map.body.features.slice(1, 4).map((f) => f.properties['shipmentId']), order);
    const path = map.body.features[4];
    assert.equal(path?.geometry.type, 'LineString');
    assert.equal((path.geometry.coordinates as unknown[]).length, 5, 'depot, three stops, depot');

    // The recipient's tracking page shows the stop's planned ETA.
    const tracked = await browser.post<{ trackingPath: string }>(`/api/v1/shipments/${order[0] ?? ''}/tracking-token`, {});
    const page = (await (await fetch(`${rampart.url}${tracked.body.trackingPath}`)).json()) as { eta: string | null };
    assert.equal(page.eta, route.stops[0]?.eta);

    // An explicit fallback plans with great-circle distances and says so.
    const driverD = world.drivers[3];
    assert.ok(driverD);
    const extra = await world.shipment(pointAt(180, 2));
    osrm.failWith = 400;
    const fallback = await browser.post<Route>('/api/v1/routes', { driverId: driverD.accountId, vehicleId: 'r-van4', date: DATE, shipmentIds: [extra], fallback: true });
    osrm.failWith = undefined;
    assert.equal(fallback.status, 201, JSON.stringify(fallback.body));
    assert.equal(fallback.body.provider, 'great-circle');
    assert.equal(fallback.body.fallbackReason, 'rejected');
    assert.ok(Math.abs(fallback.body.totalDistanceMetres - 2 * straightKm(NORTH, pointAt(180, 2)) * 1000) < 1);
  });

  test('plans a depot\'s day: every unassigned shipment on exactly one route, one route per free driver', async () => {
    const browser = await world.fresh(world.dispatcher);
    const ids: string[] = [];
    for (const bearing of [10, 70, 130, 190, 250, 310]) ids.push(await world.shipment(pointAt(bearing, 3), { window: window2 }));
    const before = await snapshot();
    for (const body of [{ depotId: 'north' }, { depotId: 'north', date: DATE2, extra: 1 }, { depotId: 'nowhere', date: DATE2 }]) {
      assert.ok((await browser.post('/api/v1/routes/plan', body)).status >= 400);
    }
    assert.equal((await browser.post('/api/v1/routes/plan', { depotId: 'north', date: '2026-08-01' })).body['code'], 'delivery_route.nothing_to_plan');
    assert.equal(await snapshot(), before);

    const planned = await browser.post<{ routes: Route[] }>('/api/v1/routes/plan', { depotId: 'north', date: DATE2 });
    assert.equal(planned.status, 201, JSON.stringify(planned.body));
    const routes = planned.body.routes;
    assert.equal(routes.length, 4, 'four free drivers and vans');
    const onRoutes = routes.flatMap((r) => r.stops.map((s) => s.shipmentId)).sort();
    assert.deepEqual(onRoutes, [...ids].sort(), 'each shipment exactly once');
    assert.deepEqual(routes.map((r) => r.stops.length).sort(), [1, 1, 2, 2], 'balanced groups');
    assert.equal(new Set(routes.map((r) => r.driverId)).size, 4);
    assert.equal(new Set(routes.map((r) => r.vehicleId)).size, 4);
    for (const r of routes) {
      for (const stop of r.stops) assert.equal((await browser.get<{ assignedDriverId: string }>(`/api/v1/shipments/${stop.shipmentId}`)).body.assignedDriverId, r.driverId);
    }
    assert.equal((await browser.post('/api/v1/routes/plan', { depotId: 'north', date: DATE2 })).body['code'], 'delivery_route.nothing_to_plan', 'nothing left to plan');

    const list = await browser.get<{ items: Route[]; nextCursor: string | null }>(`/api/v1/routes?date=${DATE2}&limit=3`);
    assert.equal(list.body.items.length, 3);
    assert.ok(list.body.nextCursor !== null);
    const rest = await browser.get<{ items: Route[]; nextCursor: string | null }>(`/api/v1/routes?date=${DATE2}&limit=3&cursor=${list.body.nextCursor}`);
    assert.equal(rest.body.items.length, 1);
    assert.equal(rest.body.nextCursor, null);
    assert.equal((await browser.get('/api/v1/routes?status=finished')).status, 400);
  });

  test('reorder, remove and move keep the history and change assignments; bad changes change nothing', async () => {
    const browser = await world.fresh(world.dispatcher);
    const routes = (await browser.get<{ items: Route[] }>(`/api/v1/routes?date=${DATE2}`)).body.items;
    const details = await Promise.all(routes.map(async (r) => (await browser.get<Route>(`/api/v1/routes/${r.id}`)).body));
    const two = details.filter((r) => r.stops.length === 2);
    const [first, second] = two;
    assert.ok(first !== undefined && second !== undefined);

    const before = await snapshot();
    const reversed = [...first.stops].reverse().map((s) => s.id);
    const badOrders: Record<string, unknown>[] = [
      { stopIds: [reversed[0]] },
      { stopIds: [...reversed, reversed[0]] },
      { stopIds: reversed, extra: true },
      { stopIds: [second.stops[0]?.id, first.stops[0]?.id] },
    ];
    for (const body of badOrders) {
      const refused: ApiResponse = await browser.request('PUT', `/api/v1/routes/${first.id}/order`, body);
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
    }
    assert.equal((await browser.request('DELETE', `/api/v1/routes/${first.id}/stops/${second.stops[0]?.id ?? ''}`)).status, 404, 'a stop of another route');
    assert.equal((await browser.post(`/api/v1/routes/${first.id}/stops/${first.stops[0]?.id ?? ''}/move`, { routeId: first.id })).status, 400);
    assert.equal(await snapshot(), before);
    // An order made against an older revision is refused whole.
    const stale: ApiResponse = await browser.request('PUT', `/api/v1/routes/${first.id}/order`, { stopIds: reversed, revision: first.revision + 1 });
    assert.equal(stale.status, 409, JSON.stringify(stale.body));
    assert.match(String(stale.body['detail']), /changed meanwhile \(revision \d+ was shown, it is now \d+\)/);
    assert.equal(await snapshot(), before);

    const reordered = await browser.request<Route>('PUT', `/api/v1/routes/${first.id}/order`, { stopIds: reversed, revision: first.revision });
    assert.equal(reordered.status, 200, JSON.stringify(reordered.body));
    assert.deepEqual(reordered.body.stops.map((s) => s.id), reversed);
    assert.equal(reordered.body.revision, first.revision + 1);

    const removedStop = reordered.body.stops[0];
    assert.ok(removedStop);
    const removed = await browser.request<Route>('DELETE', `/api/v1/routes/${first.id}/stops/${removedStop.id}`);
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    assert.deepEqual(removed.body.stops.map((s) => s.shipmentId), [reordered.body.stops[1]?.shipmentId]);
    const unassigned = await browser.get<{ status: string; assignedDriverId: string | null }>(`/api/v1/shipments/${removedStop.shipmentId}`);
    assert.deepEqual([unassigned.body.status, unassigned.body.assignedDriverId], ['created', null]);

    const moving = second.stops[0];
    assert.ok(moving);
    const moved = await browser.post<{ from: Route; to: Route }>(`/api/v1/routes/${second.id}/stops/${moving.id}/move`, { routeId: first.id });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.ok(!moved.body.from.stops.some((s) => s.shipmentId === moving.shipmentId));
    assert.equal(moved.body.to.stops.at(-1)?.shipmentId, moving.shipmentId);
    assert.equal((await browser.get<{ assignedDriverId: string }>(`/api/v1/shipments/${moving.shipmentId}`)).body.assignedDriverId, first.driverId);

    const added = await browser.post<Route>(`/api/v1/routes/${second.id}/stops`, { shipmentId: removedStop.shipmentId });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.equal((await browser.get<{ assignedDriverId: string }>(`/api/v1/shipments/${removedStop.shipmentId}`)).body.assignedDriverId, second.driverId);
    const optimised = await browser.post<Route>(`/api/v1/routes/${second.id}/optimise`, {});
    assert.equal(optimised.status, 200);

    const history = (await browser.get<History>(`/api/v1/routes/${first.id}/history`)).body.items;
    assert.deepEqual(history.map((h) => h.kind), ['created', 'reordered', 'stop_removed', 'stop_added']);
    assert.deepEqual(history[1]?.before, first.stops.map((s) => s.shipmentId));
    assert.deepEqual(history.at(1)?.after, [...first.stops].reverse().map((s) => s.shipmentId));
    assert.equal(history[3]?.details['fromRoute'], second.id);
    const secondHistory = (await browser.get<History>(`/api/v1/routes/${second.id}/history`)).body.items;
    assert.deepEqual(secondHistory.map((h) => h.kind), ['created', 'stop_moved', 'stop_added', 'optimised']);
    assert.equal(secondHistory[1]?.details['toRoute'], first.id);
    for (const action of ['route.reorder', 'route.stop_remove', 'route.stop_move', 'route.stop_add', 'route.optimise']) assert.equal((await auditEntries(rampart, action)).length, 1, action);
  });

  test('a depot-scoped dispatcher and other roles see only what they may; unseen routes answer 404 like missing ones', async () => {
    const south = await createSignedInUser(rampart, admin, 'southdisp', 'dispatcher');
    rampart.clock.advance(30_000);
    assert.equal((await (await world.fresh(admin)).request('PUT', `/api/v1/users/${south.accountId}/depots`, { depots: ['south'] })).status, 200);
    const browser = await world.fresh(south);
    const route = (await (await world.fresh(world.dispatcher)).get<{ items: Route[] }>('/api/v1/routes')).body.items[0];
    assert.ok(route);
    assert.deepEqual((await browser.get<{ items: Route[] }>('/api/v1/routes')).body.items, []);
    const hidden = await browser.get(`/api/v1/routes/${route.id}`);
    const missing = await browser.get(`/api/v1/routes/rte_${'A'.repeat(22)}`);
    assert.equal(hidden.status, 404);
    assert.deepEqual({ ...hidden.body, requestId: '' }, { ...missing.body, requestId: '' });
    assert.equal((await browser.get(`/api/v1/routes/${route.id}/map`)).status, 404);
    assert.equal((await browser.post(`/api/v1/routes/${route.id}/optimise`, {})).status, 404);
    assert.equal((await browser.post('/api/v1/routes/plan', { depotId: 'north', date: DATE2 })).status, 404);
    assert.equal((await (await world.fresh(admin)).get('/api/v1/routes')).status, 403, 'administrators do not plan routes');
  });

  test('drone missions: refused with every reason, planned, refused while the drone is offline, sent to its MQTT subscription', async () => {
    const browser = await world.fresh(world.dispatcher);
    const registry = outsideRegistry(rampart.running, rampart.clock);
    const device = await createTestDevice(registry, { id: 'rdrone-n1', kind: 'drone', depot: 'north' });
    const adminBrowser = await world.fresh(admin);
    assert.equal((await adminBrowser.post('/api/v1/drones', { id: 'hawk', name: 'Hawk', depotId: 'north', deviceId: device.id, maxRangeKm: 30, maxPayloadKg: 2 })).status, 201);
    const blocked = await world.shipment({ lat: 52.52, lon: 13.7 }, { mode: 'drone', parcel: { weightKg: 3 } });
    const fine = await world.shipment(pointAt(270, 3), { mode: 'drone', parcel: { weightKg: 1 } });

    const before = await snapshot();
    const refused = await browser.post(`/api/v1/shipments/${blocked}/mission`, { droneId: 'hawk' });
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    assert.equal(refused.body['code'], 'planning.mission_refused');
    assert.match(String(refused.body['detail']), /no-fly zone "Airport East"/);
    assert.match(String(refused.body['detail']), /payload/);
    assert.equal((await browser.post(`/api/v1/shipments/${fine}/mission`, { droneId: 'hawk', extra: 1 })).status, 400);
    assert.equal((await browser.post(`/api/v1/shipments/${fine}/mission`, { droneId: 'ghost' })).status, 404);
    assert.equal(await snapshot(), before);

    const planned = await browser.post<{ id: string; status: string; mission: { waypoints: unknown[]; droneId: string } }>(`/api/v1/shipments/${fine}/mission`, { droneId: 'hawk' });
    assert.equal(planned.status, 201, JSON.stringify(planned.body));
    assert.equal(planned.body.status, 'planned');
    assert.equal(planned.body.mission.droneId, device.id);
    assert.equal((await auditEntries(rampart, 'drone_mission.create')).length, 1);

    const offline = await browser.post(`/api/v1/missions/${planned.body.id}/send`, {});
    assert.equal(offline.status, 409);
    assert.equal(offline.body['code'], 'drone_mission.not_connected');

    const mqttUrl = rampart.running.mqtt?.url;
    assert.ok(mqttUrl !== undefined);
    const client: MqttClient = await connectAsync(mqttUrl, {
      clientId: device.id,
      username: `${HUB_HOST}/${device.id}/?api-version=2021-04-12`,
      password: createSasToken({ resourceUri: `${HUB_HOST}/devices/${device.id}`, key: device.primaryKey, expiresAt: Math.floor(rampart.clock.now().getTime() / 1000) + 3600, keyEncoding: 'base64' }),
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    try {
      await client.subscribeAsync(`devices/${device.id}/messages/devicebound/#`, { qos: 1 });
      const received = new Promise<{ topic: string; payload: Buffer }>((resolve) => client.once('message', (topic, payload) => resolve({ topic, payload })));
      const sent = await browser.post<{ status: string; sentAt: string }>(`/api/v1/missions/${planned.body.id}/send`, {});
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      assert.equal(sent.body.status, 'sent');
      const message = await received;
      assert.match(message.topic, new RegExp(`^devices/${device.id}/messages/devicebound/`));
      const document = JSON.parse(message.payload.toString('utf8')) as { type: string; missionId: string; waypoints: unknown[] };
      assert.equal(document.type, 'rampart.drone-mission');
      assert.equal(document.missionId, planned.body.id);
      assert.deepEqual(document.waypoints, planned.body.mission.waypoints);
      assert.equal((await auditEntries(rampart, 'drone_mission.send')).length, 1);
    } finally {
      await client.endAsync(true);
    }
  });

  test('no-fly zones: the configured polygons, read-only, for those who read routes', async () => {
    const zones = await (await world.fresh(world.dispatcher)).get<{ items: { name: string; area: { type: string; coordinates: number[][][] } }[] }>('/api/v1/no-fly-zones');
    assert.equal(zones.status, 200, JSON.stringify(zones.body));
    assert.deepEqual(zones.body.items, [{ name: 'Airport East', area: { type: 'Polygon', coordinates: [[[13.55, 52.45], [13.65, 52.45], [13.65, 52.6], [13.55, 52.6], [13.55, 52.45]]] } }]);
    const browser = await world.fresh(world.dispatcher);
    assert.equal((await browser.post('/api/v1/no-fly-zones', { name: 'Mine' })).status, 404, 'no way to change them through the API');
    assert.equal((await (await world.fresh(admin)).get('/api/v1/no-fly-zones')).status, 403, 'administrators do not plan missions');
  });

  test('plans for a driver still awaiting their own setup, never for a disabled one', async () => {
    const adminBrowser = await world.fresh(admin);
    const east = { lat: 51.34, lon: 12.375 };
    assert.equal((await adminBrowser.post('/api/v1/depots', { id: 'east', name: 'East', location: east })).status, 201);
    for (const id of ['e-van1', 'e-van2']) assert.equal((await adminBrowser.post('/api/v1/vehicles', { id, name: id, depotId: 'east', maxPayloadKg: 500 })).status, 201);
    const drivers: Record<string, string> = {};
    for (const username of ['newhire', 'leaver']) {
      // Created, never signed in: each still holds only a setup code.
      const created = await adminBrowser.post<{ user: { id: string } }>('/api/v1/users', { username, role: 'driver' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      drivers[username] = created.body.user.id;
      assert.equal((await adminBrowser.request('PUT', `/api/v1/drivers/${created.body.user.id}`, { homeDepotId: 'east' })).status, 200);
    }
    const newhire = drivers['newhire'] ?? '';
    const leaver = drivers['leaver'] ?? '';
    assert.equal((await adminBrowser.post(`/api/v1/users/${leaver}/disable`, {})).status, 200);
    const listed = await (await world.fresh(world.dispatcher)).get<{ items: { username: string; accountStatus: string }[] }>('/api/v1/drivers?depot=east');
    assert.deepEqual(listed.body.items.map((d) => [d.username, d.accountStatus]), [['leaver', 'disabled'], ['newhire', 'setup_required']], 'the dispatcher sees both, and which may be planned');

    const date = '2026-07-03';
    const window = { start: `${date}T08:00:00Z`, end: `${date}T18:00:00Z` };
    const ids: string[] = [];
    for (const bearing of [45, 225]) {
      const rad = (bearing * Math.PI) / 180;
      ids.push(await world.shipment({ lat: east.lat + (3 * Math.cos(rad)) / 111.2, lon: east.lon + (3 * Math.sin(rad)) / 70 }, { depotId: 'east', window }));
    }
    const browser = await world.fresh(world.dispatcher);
    const before = await snapshot();
    const refused = await browser.post('/api/v1/routes', { driverId: leaver, vehicleId: 'e-van1', date, shipmentIds: ids });
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body['code'], 'driver.not_eligible');
    assert.match(String(refused.body['detail']), /disabled/);
    assert.equal((await browser.request('PUT', `/api/v1/shipments/${ids[0] ?? ''}/assignment`, { driverId: leaver })).body['code'], 'driver.not_eligible');
    assert.equal(await snapshot(), before, 'nothing planned, assigned or audited for a disabled driver');

    const planned = await browser.post<{ routes: Route[] }>('/api/v1/routes/plan', { depotId: 'east', date });
    assert.equal(planned.status, 201, JSON.stringify(planned.body));
    assert.deepEqual(planned.body.routes.map((r) => r.driverId), [newhire], 'one route, for the new hire only: two vans, but one plannable driver');
    assert.deepEqual(planned.body.routes[0]?.stops.map((s) => s.shipmentId).sort(), [...ids].sort());
    for (const id of ids) assert.equal((await browser.get<{ assignedDriverId: string }>(`/api/v1/shipments/${id}`)).body.assignedDriverId, newhire);
  });
});
