import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { createTestDevice, outsideRegistry } from '../support/devices.ts';
import { csvLine, CSV_HEADER, deliverySnapshot, rawRequest, recipientFor, recipientValues, shipmentBody, squareArea } from '../support/delivery.ts';
import { auditEntries, createSignedInUser, freshSignIn, signInAdmin, startTestRampart, type SignedIn, type TestRampart } from '../support/identity.ts';

// The delivery API end to end: depots, the fleet, shipments and their status
// machine, object-level access (drivers see only their own shipments,
// dispatchers only their depots, both as 404), CSV import and export, and the
// public tracking page, which never shows personal data.

type Shipment = { id: string; trackingNumber: string; depotId: string; status: string; assignedDriverId: string | null; failureReason: string | null; recipient?: { name: string; phone: string | null; address: string } | null };
type Created = { shipment: Shipment; trackingToken: string; trackingPath: string };
type Page<T> = { items: T[]; nextCursor: string | null };

describe('delivery', () => {
  let rampart: TestRampart;
  let admin: SignedIn;
  let dispatcherNorth: SignedIn;
  let driverA: SignedIn;
  let driverB: SignedIn;
  let auditor: SignedIn;
  const db = () => rampart.running.database.db;
  const snapshot = () => deliverySnapshot(db());

  before(async () => {
    rampart = await startTestRampart();
    admin = await signInAdmin(rampart);
    dispatcherNorth = await createSignedInUser(rampart, admin, 'dana', 'dispatcher');
    driverA = await createSignedInUser(rampart, admin, 'drivera', 'driver');
    driverB = await createSignedInUser(rampart, admin, 'driverb', 'driver');
    auditor = await createSignedInUser(rampart, admin, 'otto', 'auditor');
    rampart.clock.advance(30_000);
    assert.equal((await admin.browser.request('PUT', `/api/v1/users/${dispatcherNorth.accountId}/depots`, { depots: ['north'] })).status, 200);
  });
  after(() => rampart.stop());

  const fresh = (user: SignedIn) => freshSignIn(rampart, user);

  test('depots: created with a service area; bad input is refused and writes nothing', async () => {
    const browser = await fresh(admin);
    const before = await snapshot();
    for (const body of [
      {},
      { id: 'north', name: 'North', location: { lat: 95, lon: 13 } },
      { id: '../x', name: 'X', location: { lat: 52, lon: 13 } },
      { id: 'north', name: 'North', location: { lat: 52.52, lon: 13.4 }, colour: 'red' },
      { id: 'north', name: 'North', location: { lat: 52.52, lon: 13.4 }, serviceArea: { type: 'Polygon', coordinates: [[[13, 52], [14, 52], [14, 53], [13.5, 53]]] } },
      { id: 'north', name: 'North', location: { lat: 52.52, lon: 13.4 }, serviceArea: { type: 'Point', coordinates: [13, 52] } },
    ]) {
      const refused = await browser.post('/api/v1/depots', body);
      assert.equal(refused.status, 400, JSON.stringify(body));
      assert.equal(refused.body['code'], 'request.invalid');
    }
    assert.equal(await snapshot(), before);

    const north = await browser.post<{ id: string; serviceArea: unknown }>('/api/v1/depots', { id: 'north', name: 'North depot', location: { lat: 52.52, lon: 13.405 }, serviceArea: squareArea(52.52, 13.405) });
    assert.equal(north.status, 201, JSON.stringify(north.body));
    assert.deepEqual(north.body.serviceArea, squareArea(52.52, 13.405));
    assert.equal((await browser.post('/api/v1/depots', { id: 'south', name: 'South depot', location: { lat: 48.137, lon: 11.575 } })).status, 201);
    const again = await browser.post('/api/v1/depots', { id: 'north', name: 'Again', location: { lat: 1, lon: 1 } });
    assert.equal(again.status, 409);
    assert.equal(again.body['code'], 'depot.id_taken');
    const list = await browser.get<Page<{ id: string }>>('/api/v1/depots?limit=1');
    assert.deepEqual(list.body.items.map((d) => d.id), ['north']);
    assert.equal(list.body.nextCursor, 'north');
    const patched = await browser.request<{ name: string }>('PATCH', '/api/v1/depots/south', { name: 'South hub' });
    assert.equal(patched.body.name, 'South hub');
    assert.equal((await browser.request('PATCH', '/api/v1/depots/nowhere', { name: 'x' })).status, 404);
    assert.deepEqual((await auditEntries(rampart, 'depot.create')).map((e) => e.target_id), ['north', 'south']);

    const scoped = await fresh(dispatcherNorth);
    assert.deepEqual((await scoped.get<Page<{ id: string }>>('/api/v1/depots')).body.items.map((d) => d.id), ['north']);
    const hidden = await scoped.get('/api/v1/depots/south');
    assert.equal(hidden.status, 404);
    assert.equal(hidden.body['code'], 'depot.not_found');
    assert.equal((await scoped.post('/api/v1/depots', { id: 'east', name: 'East', location: { lat: 1, lon: 1 } })).status, 403, 'dispatchers do not create depots');
  });

  test('fleet: vehicles and drones link devices of their kind and depot; dispatchers see only their depots', async () => {
    const browser = await fresh(admin);
    const registry = outsideRegistry(rampart.running, rampart.clock);
    await createTestDevice(registry, { id: 'truck-n1', kind: 'truck', depot: 'north' });
    await createTestDevice(registry, { id: 'truck-s1', kind: 'truck', depot: 'south' });
    await createTestDevice(registry, { id: 'drone-n1', kind: 'drone', depot: 'north' });

    const before = await snapshot();
    for (const [body, code] of [
      [{ id: 'v1', name: 'Van 1', depotId: 'north', deviceId: 'drone-n1', maxPayloadKg: 800 }, 'fleet.device_invalid'],
      [{ id: 'v1', name: 'Van 1', depotId: 'north', deviceId: 'truck-s1', maxPayloadKg: 800 }, 'fleet.device_invalid'],
      [{ id: 'v1', name: 'Van 1', depotId: 'north', deviceId: 'ghost', maxPayloadKg: 800 }, 'fleet.device_invalid'],
      [{ id: 'v1', name: 'Van 1', depotId: 'nowhere', maxPayloadKg: 800 }, 'depot.not_found'],
      [{ id: 'v1', name: 'Van 1', depotId: 'north', maxPayloadKg: -1 }, 'request.invalid'],
      [{ id: 'v1', name: 'Van 1', depotId: 'north', maxPayloadKg: 800, maxRangeKm: 10 }, 'request.invalid'],
    ] as const) {
      const refused = await browser.post('/api/v1/vehicles', body);
      assert.equal(refused.body['code'], code, JSON.stringify(body));
    }
    assert.equal((await browser.post('/api/v1/drones', { id: 'k1', name: 'Kestrel', depotId: 'north', maxPayloadKg: 2 })).status, 400, 'a drone needs its range');
    assert.equal(await snapshot(), before, 'nothing written, nothing audited');

    const van = await browser.post<{ deviceId: string; plate: string | null }>('/api/v1/vehicles', { id: 'v1', name: 'Van 1', depotId: 'north', deviceId: 'truck-n1', plate: 'B-RP 1', maxPayloadKg: 800 });
    assert.equal(van.status, 201, JSON.stringify(van.body));
    assert.equal(van.body.deviceId, 'truck-n1');
    assert.equal((await browser.post('/api/v1/vehicles', { id: 'v2', name: 'Van 2', depotId: 'north', deviceId: 'truck-n1', maxPayloadKg: 800 })).body['code'], 'fleet.device_invalid', 'a device serves one unit');
    assert.equal((await browser.post('/api/v1/vehicles', { id: 'v3', name: 'Van 3', depotId: 'south', deviceId: 'truck-s1', maxPayloadKg: 600 })).status, 201);
    const drone = await browser.post<{ maxRangeKm: number }>('/api/v1/drones', { id: 'k1', name: 'Kestrel', depotId: 'north', deviceId: 'drone-n1', maxRangeKm: 25, maxPayloadKg: 2.5 });
    assert.equal(drone.status, 201);
    assert.equal(drone.body.maxRangeKm, 25);
    const moved = await browser.request('PATCH', '/api/v1/vehicles/v3', { depotId: 'north' });
    assert.equal(moved.body['code'], 'fleet.device_invalid', 'its device stays in the south');
    assert.equal((await browser.request<{ status: string }>('PATCH', '/api/v1/vehicles/v3', { status: 'inactive' })).body.status, 'inactive');

    for (const driver of [driverA, driverB]) assert.equal((await browser.request('PUT', `/api/v1/drivers/${driver.accountId}`, { homeDepotId: 'north' })).status, 200);
    const notDriver = await browser.request('PUT', `/api/v1/drivers/${auditor.accountId}`, { homeDepotId: 'north' });
    assert.equal(notDriver.body['code'], 'driver.not_eligible');
    assert.deepEqual((await browser.get<Page<{ username: string }>>('/api/v1/drivers')).body.items.map((d) => d.username), ['drivera', 'driverb']);

    const scoped = await fresh(dispatcherNorth);
    assert.deepEqual((await scoped.get<Page<{ id: string }>>('/api/v1/vehicles')).body.items.map((v) => v.id), ['v1']);
    assert.equal((await scoped.get('/api/v1/vehicles/v3')).status, 404, 'another depot\'s vehicle: not found');
    assert.equal((await scoped.get('/api/v1/vehicles/v3')).body['code'], 'vehicle.not_found');
    assert.equal((await scoped.request('PATCH', '/api/v1/vehicles/v3', { name: 'Mine now' })).status, 404);
    assert.equal((await scoped.post('/api/v1/vehicles', { id: 'v9', name: 'Van 9', depotId: 'south', maxPayloadKg: 500 })).status, 404);
    assert.equal((await scoped.post('/api/v1/vehicles', { id: 'v9', name: 'Van 9', depotId: 'north', maxPayloadKg: 500 })).status, 201, 'in their own depot they manage the fleet');
    assert.equal((await (await fresh(auditor)).get('/api/v1/drones/k1')).status, 200, 'auditors read the fleet');
    assert.equal((await (await fresh(auditor)).post('/api/v1/drones', { id: 'k2', name: 'x', depotId: 'north', maxRangeKm: 1, maxPayloadKg: 1 })).status, 403);
  });

  test('shipments: recipient data only in detail, encrypted at rest, never in lists or the audit trail', async () => {
    const browser = await fresh(admin);
    const recipient = recipientFor('alpha');
    const before = await snapshot();
    for (const body of [
      shipmentBody({ mode: 'boat' }),
      shipmentBody({ window: { start: '2026-07-01T12:00:00Z', end: '2026-07-01T09:00:00Z' } }),
      shipmentBody({ window: { start: 'tomorrow', end: '2026-07-01T09:00:00Z' } }),
      shipmentBody({ requiredProof: ['signature', 'signature'] }),
      shipmentBody({ requiredProof: ['retina'] }),
      shipmentBody({ parcel: { weightKg: 0 } }),
      shipmentBody({ destination: { lat: 52.53, lon: 13.41 }, status: 'delivered' }),
      shipmentBody({ recipient: { name: 'A', address: 'B', email: 'a@example.com' } }),
      shipmentBody({ recipient: { name: 'Bell\u0007', address: 'B' } }),
    ]) {
      const refused = await browser.post('/api/v1/shipments', body);
      assert.equal(refused.status, 400, JSON.stringify(body));
      assert.equal(refused.body['code'], 'request.invalid');
    }
    const outside = await browser.post('/api/v1/shipments', shipmentBody({ destination: { lat: 40, lon: 13.41 } }));
    assert.equal(outside.body['code'], 'shipment.outside_service_area');
    assert.equal((await browser.post('/api/v1/shipments', shipmentBody({ depotId: 'nowhere' }))).body['code'], 'depot.not_found');
    assert.equal(await snapshot(), before);

    const created = await browser.post<Created>('/api/v1/shipments', shipmentBody({ reference: 'ORD-1001' }, recipient));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { shipment, trackingToken } = created.body;
    assert.match(shipment.trackingNumber, /^RP-[0-9A-Y]{4}-[0-9A-Y]{4}-[0-9A-Y]{3}$/);
    assert.equal(shipment.status, 'created');
    assert.deepEqual(shipment.recipient, recipient);
    assert.equal(created.body.trackingPath, `/t/${trackingToken}`);
    assert.equal((await browser.post('/api/v1/shipments', shipmentBody({ reference: 'ORD-1001' }))).body['code'], 'shipment.reference_taken');

    const row = await db().selectFrom('shipments').selectAll().where('id', '=', shipment.id).executeTakeFirstOrThrow();
    const raw = JSON.stringify(row);
    for (const value of recipientValues(recipient)) assert.ok(!raw.includes(value), 'no plaintext personal data in the row');
    assert.match(row.recipient_name, /^rk1\./);
    assert.ok(!raw.includes(trackingToken), 'only the token\'s hash is stored');

    const detail = await browser.get<Shipment>(`/api/v1/shipments/${shipment.id}`);
    assert.deepEqual(detail.body.recipient, recipient);
    const list = await browser.get<Page<Shipment>>(`/api/v1/shipments?q=${encodeURIComponent(shipment.trackingNumber.toLowerCase().replaceAll('-', ' '))}`);
    assert.deepEqual(list.body.items.map((s) => s.id), [shipment.id], 'found by tracking number in any spelling');
    assert.deepEqual((await browser.get<Page<Shipment>>('/api/v1/shipments?q=ORD-1001')).body.items.map((s) => s.id), [shipment.id], 'and by reference');
    const listed = JSON.stringify((await browser.get('/api/v1/shipments')).body);
    for (const value of recipientValues(recipient)) assert.ok(!listed.includes(value), 'lists carry no personal data');
    const audited = JSON.stringify(await db().selectFrom('audit_entries').selectAll().where('target_id', '=', shipment.id).execute());
    assert.ok(audited.includes('shipment.create'));
    for (const value of recipientValues(recipient)) assert.ok(!audited.includes(value), 'the audit trail carries no personal data');

    const auditorView = await (await fresh(auditor)).get<Shipment>(`/api/v1/shipments/${shipment.id}`);
    assert.equal(auditorView.status, 200);
    assert.equal(auditorView.body.recipient, null, 'auditors read shipments without recipient data');

    const edited = await browser.request<Shipment>('PATCH', `/api/v1/shipments/${shipment.id}`, { recipient: { phone: '+49 30 1234567' }, requiredProof: ['pin', 'signature'] });
    assert.equal(edited.status, 200, JSON.stringify(edited.body));
    assert.deepEqual((await browser.get<Shipment>(`/api/v1/shipments/${shipment.id}`)).body.recipient, { ...recipient, phone: '+49 30 1234567' });
    const update = (await auditEntries(rampart, 'shipment.update')).at(-1);
    assert.ok(update !== undefined);
    assert.deepEqual(JSON.parse(update.details), { before: { requiredProof: ['signature'] }, after: { requiredProof: ['signature', 'pin'] }, recipientChanged: ['phone'], destinationChanged: false });
    assert.ok(!update.details.includes('1234567'));
  });

  test('status machine over the API: assignment, driver progress, illegal changes refused with nothing changed', async () => {
    const browser = await fresh(admin);
    const { shipment } = (await browser.post<Created>('/api/v1/shipments', shipmentBody())).body;
    const path = `/api/v1/shipments/${shipment.id}`;
    const before = await snapshot();
    for (const [body, status, code] of [
      [{ status: 'out_for_delivery' }, 409, 'shipment.invalid_transition'],
      [{ status: 'delivered' }, 409, 'shipment.invalid_transition'],
      [{ status: 'failed', reason: 'weather' }, 409, 'shipment.invalid_transition'],
      [{ status: 'assigned' }, 400, 'request.invalid'],
      [{ status: 'failed', reason: 'bored' }, 400, 'request.invalid'],
      [{ status: 'returned', extra: true }, 400, 'request.invalid'],
    ] as const) {
      const refused = await browser.post(`${path}/status`, body);
      assert.equal(refused.status, status, JSON.stringify(body));
      assert.equal(refused.body['code'], code, JSON.stringify(body));
    }
    assert.equal((await browser.request('PUT', `${path}/assignment`, { driverId: auditor.accountId })).body['code'], 'driver.not_eligible');
    assert.equal((await browser.post('/api/v1/shipments/shp_0000000000000000000000/status', { status: 'returned' })).status, 404);
    assert.equal(await snapshot(), before, 'refused changes leave no trace');

    const assigned = await browser.request<Shipment>('PUT', `${path}/assignment`, { driverId: driverA.accountId });
    assert.equal(assigned.body.status, 'assigned');
    assert.equal(assigned.body.assignedDriverId, driverA.accountId);

    const a = await fresh(driverA);
    const b = await fresh(driverB);
    assert.equal((await a.get<Shipment>(path)).body.recipient?.name.startsWith('Rosalind'), true, 'the assigned driver sees the recipient');
    for (const [method, suffix, body] of [['GET', '', undefined], ['GET', '/history', undefined], ['POST', '/status', { status: 'out_for_delivery' }]] as const) {
      const refused = await b.request(method, `${path}${suffix}`, body);
      assert.equal(refused.status, 404, `another driver's shipment is not found: ${method} ${suffix}`);
      assert.equal(refused.body['code'], 'shipment.not_found');
    }
    assert.deepEqual((await b.get<Page<Shipment>>('/api/v1/shipments')).body.items, []);
    assert.deepEqual((await a.get<Page<Shipment>>('/api/v1/shipments')).body.items.map((s) => s.id), [shipment.id]);

    assert.equal((await a.post<Shipment>(`${path}/status`, { status: 'out_for_delivery' })).body.status, 'out_for_delivery');
    assert.equal((await a.post(`${path}/status`, { status: 'delivered' })).body['code'], 'shipment.proof_required');
    assert.equal((await a.post(`${path}/status`, { status: 'returned' })).status, 403, 'returns are the dispatcher\'s');
    const onTheRoad = await snapshot();
    assert.equal((await a.post(`${path}/status`, { status: 'failed' })).body['code'], 'request.invalid', 'a failure needs its reason');
    assert.equal((await a.post(`${path}/status`, { status: 'failed', reason: 'other' })).body['code'], 'request.invalid', 'and "other" a note');
    assert.equal(await snapshot(), onTheRoad);
    const failed = await a.post<Shipment>(`${path}/status`, { status: 'failed', reason: 'other', note: 'Mrs Quayle asked to call her neighbour' });
    assert.equal(failed.body.status, 'failed');
    assert.equal(failed.body.failureReason, 'other');
    const again = await browser.request<Shipment>('PUT', `${path}/assignment`, { driverId: driverB.accountId });
    assert.equal(again.body.status, 'assigned', 'failed → assigned: another attempt');
    assert.equal((await a.get(path)).status, 404, 'the first driver no longer sees it');
    assert.equal((await browser.request<Shipment>('DELETE', `${path}/assignment`)).body.status, 'created');

    const history = await browser.get<{ items: Array<{ from: string | null; to: string; reason: string | null; note: string | null; hasNote: boolean }> }>(`${path}/history`);
    assert.deepEqual(history.body.items.map((h) => `${h.from ?? '-'}→${h.to}`), ['-→created', 'created→assigned', 'assigned→out_for_delivery', 'out_for_delivery→failed', 'failed→assigned', 'assigned→created']);
    assert.equal(history.body.items[3]?.note, 'Mrs Quayle asked to call her neighbour');
    const auditorHistory = await (await fresh(auditor)).get<{ items: Array<{ note: string | null; hasNote: boolean }> }>(`${path}/history`);
    const hiddenNote = auditorHistory.body.items[3];
    assert.ok(hiddenNote !== undefined);
    assert.equal(hiddenNote.note, null);
    assert.equal(hiddenNote.hasNote, true);
    const stored = JSON.stringify(await db().selectFrom('shipment_events').selectAll().where('shipment_id', '=', shipment.id).execute());
    assert.ok(!stored.includes('neighbour'), 'notes are stored encrypted');
    assert.ok(!JSON.stringify(await auditEntries(rampart, 'shipment.status_change')).includes('neighbour'), 'and never audited');
  });

  test('a dispatcher limited to one depot cannot see or change another depot\'s shipments', async () => {
    const browser = await fresh(admin);
    const south = (await browser.post<Created>('/api/v1/shipments', shipmentBody({ depotId: 'south', destination: { lat: 48.14, lon: 11.58 } }))).body.shipment;
    const scoped = await fresh(dispatcherNorth);
    for (const [method, suffix, body] of [['GET', '', undefined], ['PATCH', '', { mode: 'drone' }], ['GET', '/history', undefined], ['POST', '/status', { status: 'returned' }], ['POST', '/tracking-token', {}]] as const) {
      const refused = await scoped.request(method, `/api/v1/shipments/${south.id}${suffix}`, body);
      assert.equal(refused.status, 404, `${method} ${suffix}`);
    }
    assert.ok((await scoped.get<Page<Shipment>>('/api/v1/shipments?limit=100')).body.items.every((s) => s.depotId === 'north'));
    assert.deepEqual((await scoped.get<Page<Shipment>>('/api/v1/shipments?depot=south')).body.items, []);
    assert.equal((await scoped.post('/api/v1/shipments', shipmentBody({ depotId: 'south', destination: { lat: 48.14, lon: 11.58 } }))).status, 404);
  });

  test('tracking page: status, window and last update only; rotation kills the old link; unknown tokens are plain 404s', async () => {
    const browser = await fresh(admin);
    const recipient = recipientFor('track');
    const created = (await browser.post<Created>('/api/v1/shipments', shipmentBody({}, recipient))).body;
    const page = await fetch(`${rampart.url}${created.trackingPath}`);
    const text = await page.text();
    assert.equal(page.status, 200);
    assert.deepEqual(Object.keys(JSON.parse(text) as object).sort(), ['eta', 'lastUpdate', 'status', 'window']);
    for (const value of [...recipientValues(recipient), '52.53', '13.41', created.shipment.trackingNumber, created.shipment.id]) assert.ok(!text.includes(value), `tracking shows no ${value}`);
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');

    const rotated = await browser.post<{ trackingToken: string; trackingPath: string }>(`/api/v1/shipments/${created.shipment.id}/tracking-token`, {});
    assert.equal(rotated.status, 200);
    assert.equal((await fetch(`${rampart.url}${created.trackingPath}`)).status, 404, 'the old link is dead');
    assert.equal((await fetch(`${rampart.url}${rotated.body.trackingPath}`)).status, 200);
    const unknown = await fetch(`${rampart.url}/t/${'A'.repeat(43)}`);
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { code: string }).code, 'route.not_found');
    assert.equal((await fetch(`${rampart.url}/t/short`)).status, 404);

    rampart.clock.advance(60_000);
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) statuses.push((await fetch(`${rampart.url}/t/${'B'.repeat(43)}`)).status);
    assert.deepEqual(statuses.slice(0, 30), Array<number>(30).fill(404));
    const limited = await fetch(`${rampart.url}${rotated.body.trackingPath}`);
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    rampart.clock.advance(60_000);
    assert.equal((await fetch(`${rampart.url}${rotated.body.trackingPath}`)).status, 200, 'a new minute, a new quota');
  });

  test('CSV import: one bad row writes nothing; skipInvalid imports the good rows; export escapes formulas', async () => {
    const browser = await fresh(admin);
    const good = [recipientFor('csv1'), recipientFor('csv2')];
    const file = [CSV_HEADER, csvLine({ reference: 'CSV-1' }, good[0]), csvLine({ weight_kg: 'heavy', mode: 'boat' }), csvLine({ reference: 'CSV-2' }, good[1]), csvLine({ depot: 'nowhere' })].join('\n');
    const before = await snapshot();
    const refused = await rawRequest(browser, 'POST', '/api/v1/shipments/import', file);
    assert.equal(refused.status, 422, refused.text);
    const problem = JSON.parse(refused.text) as { code: string; rows: Array<{ row: number; column: string; message: string }> };
    assert.equal(problem.code, 'shipment.import_invalid');
    assert.deepEqual(problem.rows.map((r) => `${r.row} ${r.column}`), ['3 weight_kg', '3 mode', '5 depot']);
    assert.equal(await snapshot(), before, 'nothing written and nothing audited');

    for (const [body, type, status] of [
      ['', 'text/csv', 422],
      ['name,colour\nx,y', 'text/csv', 422],
      [CSV_HEADER, 'text/csv', 422],
      ['"unclosed,quote\n', 'text/csv', 422],
      [file, 'application/json', 400],
    ] as const) {
      const bad = await rawRequest(browser, 'POST', '/api/v1/shipments/import', body, type);
      assert.equal(bad.status, status, `${type}: ${body.slice(0, 20)} → ${bad.text}`);
    }
    assert.equal(await snapshot(), before);

    const skipped = await rawRequest(browser, 'POST', '/api/v1/shipments/import?skipInvalid=true', file);
    assert.equal(skipped.status, 200, skipped.text);
    const report = JSON.parse(skipped.text) as { created: Array<{ row: number; id: string; trackingToken: string }>; skipped: Array<{ row: number }> };
    assert.deepEqual(report.created.map((c) => c.row), [2, 4]);
    assert.deepEqual([...new Set(report.skipped.map((s) => s.row))], [3, 5]);
    assert.equal((await auditEntries(rampart, 'shipment.import')).length, 1);
    const imported = await browser.get<Shipment>(`/api/v1/shipments/${report.created[0]?.id ?? ''}`);
    assert.deepEqual(imported.body.recipient, good[0]);
    const twice = await rawRequest(browser, 'POST', '/api/v1/shipments/import', [CSV_HEADER, csvLine({ reference: 'CSV-1' })].join('\n'));
    assert.equal(twice.status, 422, 'the same reference again is refused');

    const formula = { name: '=HYPERLINK("http://evil.example","x")', phone: '+49 30 999', address: '@SUM(A1:A2)' };
    await browser.post('/api/v1/shipments', shipmentBody({}, formula));
    const exported = await rawRequest(await fresh(admin), 'GET', '/api/v1/shipments/export?depot=north');
    assert.equal(exported.status, 200, exported.text);
    assert.match(exported.headers.get('content-type') ?? '', /^text\/csv/);
    const records = parse<Record<string, string>>(exported.text, { columns: true });
    const row = records.find((r) => r['recipient_address'] === `'${formula.address}`);
    assert.ok(row !== undefined, 'the formula-like cells are prefixed with an apostrophe');
    assert.equal(row['recipient_name'], `'${formula.name}`);
    assert.equal(row['recipient_phone'], `'${formula.phone}`);
    assert.ok(records.some((r) => r['recipient_name'] === good[0]?.name));
    assert.ok(records.every((r) => r['depot'] === 'north'));
    assert.equal((await auditEntries(rampart, 'shipment.export')).length, 1);

    rampart.clock.advance(6 * 60_000);
    const stale = await rawRequest(browser, 'GET', '/api/v1/shipments/export');
    assert.equal(stale.status, 401, 'export needs a recent second factor');
    assert.equal((await rawRequest(await fresh(driverA), 'GET', '/api/v1/shipments/export')).status, 403);
  });
});
