import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ENCRYPTED_COLUMNS } from '../../src/crypto/encrypted-columns.ts';
import { Keyring } from '../../src/crypto/keyring.ts';
import { rotateKeys } from '../../src/crypto/rotate.ts';
import { createDelivery, type Delivery } from '../../src/delivery/delivery.ts';
import type { ShipmentEvent, ShipmentEventSink } from '../../src/delivery/shipments/events.ts';
import { importShipments } from '../../src/delivery/shipments/import.ts';
import { listShipments, shipmentHistory, trackShipment } from '../../src/delivery/shipments/shipments.query.ts';
import { ManualClock } from '../../src/kernel/clock.ts';
import { defaultProofSettings } from '../support/config.ts';
import { DATABASE_TARGETS, serviceSkipReason, type OpenedDatabase } from '../support/databases.ts';
import { csvLine, CSV_HEADER, deliverySnapshot, newShipment, squareArea } from '../support/delivery.ts';
import { hasCode } from '../support/errors.ts';
import { masterKey } from '../support/keys.ts';

// The delivery services on every supported database: personal data stored
// only as ciphertexts bound to their row, every change audited and its domain
// events emitted in the same transaction (a failing sink or audit undoes it),
// imports all or nothing, and key rotation re-encrypting the new columns.

const change = { actor: { type: 'cli' as const, id: 'contract', authMethod: 'local_shell' } };

for (const target of DATABASE_TARGETS) {
  describe(`delivery on ${target.name}`, { skip: serviceSkipReason(target.skip) }, () => {
    let opened: OpenedDatabase;
    let keyring: Keyring;
    let delivery: Delivery;
    const events: ShipmentEvent[] = [];
    let failNextSink = false;
    const clock = new ManualClock('2026-06-01T08:00:00.000Z');
    const db = () => opened.database.db;

    // Records each event, and checks it sees the change from inside the transaction.
    const sink: ShipmentEventSink = async (trx, event) => {
      const row = await trx.selectFrom('shipments').select('status').where('id', '=', event.shipmentId).executeTakeFirst();
      assert.equal(row?.status, event.status, 'the sink runs after the change, in its transaction');
      if (failNextSink) {
        failNextSink = false;
        throw new Error('outbox unavailable');
      }
      events.push(event);
    };

    before(async () => {
      opened = await target.open();
      keyring = await Keyring.open({ database: opened.database, masterKey: masterKey(), clock, columns: ENCRYPTED_COLUMNS });
      delivery = createDelivery({ db: opened.database.db, keyring, clock, eventSinks: [sink], proof: defaultProofSettings() });
      await delivery.depots.add({ id: 'north', name: 'North', location: { lat: 52.52, lon: 13.405 }, serviceArea: squareArea(52.52, 13.405) }, change);
      await delivery.depots.add({ id: 'south', name: 'South', location: { lat: 48.1, lon: 11.5 } }, change);
      const now = clock.now().toISOString();
      for (const id of ['acct_driver1', 'acct_driver2']) await db().insertInto('accounts').values({ id, username: id.slice(5), role: 'driver', status: 'active', created_at: now, updated_at: now }).execute();
      await delivery.fleet.setDriver('acct_driver1', 'north', change);
      await delivery.fleet.setDriver('acct_driver2', 'south', change);
      // A new hire who has not signed in yet, and a driver who has left.
      for (const [id, status] of [['acct_newhire', 'setup_required'], ['acct_leaver', 'disabled']] as const) {
        await db().insertInto('accounts').values({ id, username: id.slice(5), role: 'driver', status, created_at: now, updated_at: now }).execute();
        await delivery.fleet.setDriver(id, 'north', change);
      }
    });
    after(() => opened.cleanup());

    test('recipient data is stored only encrypted and bound to its row', async () => {
      const input = newShipment({}, 'bound');
      const { shipment } = await delivery.shipments.create(input, change);
      const other = (await delivery.shipments.create(newShipment(), change)).shipment;
      const row = await db().selectFrom('shipments').selectAll().where('id', '=', shipment.id).executeTakeFirstOrThrow();
      const raw = JSON.stringify(row);
      for (const value of [input.recipient.name, input.recipient.phone ?? '', input.recipient.address]) assert.ok(!raw.includes(value));
      for (const column of ['recipient_name', 'recipient_phone', 'recipient_address'] as const) assert.match(row[column] ?? '', /^rk1\./);
      assert.deepEqual(await delivery.shipments.recipient(shipment.id), input.recipient);

      // A ciphertext copied to another row (or column) does not decrypt there.
      const otherName = (await db().selectFrom('shipments').select('recipient_name').where('id', '=', other.id).executeTakeFirstOrThrow()).recipient_name;
      await db().updateTable('shipments').set({ recipient_name: row.recipient_name }).where('id', '=', other.id).execute();
      await assert.rejects(delivery.shipments.recipient(other.id), hasCode('crypto.authentication_failed'));
      await db().updateTable('shipments').set({ recipient_name: otherName }).where('id', '=', other.id).execute();
      await db().updateTable('shipments').set({ recipient_address: row.recipient_name }).where('id', '=', shipment.id).execute();
      await assert.rejects(delivery.shipments.recipient(shipment.id), hasCode('crypto.authentication_failed'));
      await db().updateTable('shipments').set({ recipient_address: row.recipient_address }).where('id', '=', shipment.id).execute();
    });

    test('creation, assignment and status changes call the event sink in their transaction', async () => {
      events.length = 0;
      const { shipment } = await delivery.shipments.create(newShipment(), change);
      await delivery.shipments.assign(shipment.id, 'acct_driver1', change);
      await delivery.shipments.transition(shipment.id, { to: 'out_for_delivery' }, change);
      await delivery.shipments.transition(shipment.id, { to: 'failed', reason: 'weather' }, change);
      await delivery.shipments.transition(shipment.id, { to: 'returned' }, change);
      assert.deepEqual(events.map((e) => e.type), ['shipment.created', 'shipment.assigned', 'shipment.out_for_delivery', 'shipment.failed', 'shipment.returned']);
      const failed = events[3];
      assert.ok(failed !== undefined);
      assert.deepEqual({ ...failed, at: '' }, { type: 'shipment.failed', shipmentId: shipment.id, trackingNumber: shipment.trackingNumber, status: 'failed', depotId: 'north', window: shipment.window, reason: 'weather', at: '' });
    });

    test('a sink that throws rolls the change back: no row, no history, no audit entry', async () => {
      const before = await deliverySnapshot(db());
      failNextSink = true;
      await assert.rejects(delivery.shipments.create(newShipment(), change), /outbox unavailable/);
      assert.equal(await deliverySnapshot(db()), before);

      const { shipment } = await delivery.shipments.create(newShipment(), change);
      const assigned = await deliverySnapshot(db());
      failNextSink = true;
      await assert.rejects(delivery.shipments.assign(shipment.id, 'acct_driver1', change), /outbox unavailable/);
      assert.equal(await deliverySnapshot(db()), assigned);
      assert.equal((await delivery.shipments.get(shipment.id)).status, 'created');
    });

    test('a change whose audit entry cannot be written is rolled back with it', async () => {
      const { shipment } = await delivery.shipments.create(newShipment(), change);
      const before = await deliverySnapshot(db());
      const head = await db().selectFrom('audit_head').selectAll().executeTakeFirstOrThrow();
      await db().deleteFrom('audit_head').execute();
      try {
        await assert.rejects(delivery.shipments.create(newShipment(), change));
        await assert.rejects(delivery.shipments.assign(shipment.id, 'acct_driver1', change));
        await assert.rejects(delivery.shipments.update(shipment.id, { mode: 'drone' }, change));
        await assert.rejects(delivery.shipments.rotateTrackingToken(shipment.id, change));
        await assert.rejects(delivery.depots.update('north', { name: 'Renamed' }, change));
      } finally {
        await db().insertInto('audit_head').values(head).execute();
      }
      assert.equal(await deliverySnapshot(db()), before);
    });

    test('assignment checks the driver; illegal changes are refused and change nothing', async () => {
      const { shipment } = await delivery.shipments.create(newShipment(), change);
      const before = await deliverySnapshot(db());
      await assert.rejects(delivery.shipments.assign(shipment.id, 'acct_driver2', change), hasCode('driver.not_eligible'), 'home depot elsewhere');
      await assert.rejects(delivery.shipments.assign(shipment.id, 'acct_nobody', change), hasCode('driver.not_eligible'));
      await assert.rejects(delivery.shipments.unassign(shipment.id, change), hasCode('shipment.invalid_transition'));
      await assert.rejects(delivery.shipments.transition(shipment.id, { to: 'delivered' }, change), hasCode('shipment.invalid_transition'));
      await assert.rejects(delivery.shipments.transition(shipment.id, { to: 'assigned' as 'returned' }, change), hasCode('request.invalid'));
      await assert.rejects(delivery.shipments.transition('shp_missing', { to: 'returned' }, change), hasCode('shipment.not_found'));
      assert.equal(await deliverySnapshot(db()), before);
    });

    test('a driver still awaiting their own setup may be assigned; a disabled one is refused and nothing changes', async () => {
      const { shipment } = await delivery.shipments.create(newShipment(), change);
      const before = await deliverySnapshot(db());
      await assert.rejects(delivery.shipments.assign(shipment.id, 'acct_leaver', change), hasCode('driver.not_eligible', /disabled/));
      assert.equal(await deliverySnapshot(db()), before);
      const assigned = await delivery.shipments.assign(shipment.id, 'acct_newhire', change);
      assert.deepEqual([assigned.status, assigned.assignedDriverId], ['assigned', 'acct_newhire']);
      await assert.rejects(delivery.shipments.assign(shipment.id, 'acct_leaver', change), hasCode('driver.not_eligible'), 'nor reassigned to a disabled driver');
      assert.equal((await delivery.shipments.get(shipment.id)).assignedDriverId, 'acct_newhire');
    });

    test('two status changes racing: exactly one wins', async () => {
      const { shipment } = await delivery.shipments.create(newShipment(), change);
      await delivery.shipments.assign(shipment.id, 'acct_driver1', change);
      await delivery.shipments.transition(shipment.id, { to: 'out_for_delivery' }, change);
      const results = await Promise.allSettled([delivery.shipments.transition(shipment.id, { to: 'returned' }, change), delivery.shipments.transition(shipment.id, { to: 'failed', reason: 'damaged' }, change)]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const history = await shipmentHistory(db(), keyring, shipment.id, false);
      assert.equal(history.length, 4, 'one history row for the winner only');
    });

    test('key rotation re-encrypts recipients and notes, which still read back', async () => {
      const input = newShipment({}, 'rotate');
      const { shipment } = await delivery.shipments.create(input, change);
      await delivery.shipments.assign(shipment.id, 'acct_driver1', change);
      await delivery.shipments.transition(shipment.id, { to: 'out_for_delivery' }, change);
      await delivery.shipments.transition(shipment.id, { to: 'failed', reason: 'other', note: 'dog in the garden' }, change);
      const before = await db().selectFrom('shipments').select(['recipient_name', 'recipient_phone', 'recipient_address']).where('id', '=', shipment.id).executeTakeFirstOrThrow();
      const noteBefore = await db().selectFrom('shipment_events').select('note').where('shipment_id', '=', shipment.id).where('note', 'is not', null).executeTakeFirstOrThrow();
      const report = await rotateKeys({ database: opened.database, keyring, columns: ENCRYPTED_COLUMNS, clock, settleMs: 0 });
      assert.ok(report.reencrypted >= 4);
      const afterRotation = await db().selectFrom('shipments').select(['recipient_name', 'recipient_phone', 'recipient_address']).where('id', '=', shipment.id).executeTakeFirstOrThrow();
      for (const column of ['recipient_name', 'recipient_phone', 'recipient_address'] as const) assert.notEqual(afterRotation[column], before[column], column);
      assert.notEqual((await db().selectFrom('shipment_events').select('note').where('shipment_id', '=', shipment.id).where('note', 'is not', null).executeTakeFirstOrThrow()).note, noteBefore.note);
      assert.deepEqual(await delivery.shipments.recipient(shipment.id), input.recipient);
      assert.equal((await shipmentHistory(db(), keyring, shipment.id, true)).at(-1)?.note, 'dog in the garden');
      assert.deepEqual(report.stillRetiring, [], 'no stored value refers to an old key any more');
    });

    test('an import with one bad row writes nothing; with skipInvalid the good rows', async () => {
      const file = [CSV_HEADER, csvLine({ reference: 'C-1' }), csvLine({ window_end: '2026-07-01T07:00:00Z', window_start: '2026-07-02T08:00:00Z' }), csvLine({ reference: 'C-1' }), csvLine({ reference: 'C-3', depot: '' })].join('\r\n');
      const options = { change, skipInvalid: false, maxRows: 100, depotVisible: () => true };
      const before = await deliverySnapshot(db());
      await assert.rejects(importShipments(delivery, file, options), (error: unknown) => {
        assert.ok(hasCode('shipment.import_invalid')(error));
        assert.deepEqual((error as { rows: Array<{ row: number; column: string }> }).rows.map((r) => `${r.row} ${r.column}`), ['3 window_end', '4 reference', '5 depot']);
        return true;
      });
      assert.equal(await deliverySnapshot(db()), before);

      const phases = new Set<string>();
      const report = await importShipments(delivery, file, { ...options, skipInvalid: true, defaultDepot: undefined, onProgress: (p) => phases.add(p.phase) });
      assert.deepEqual(report.created.map((c) => c.row), [2]);
      assert.deepEqual([...phases].sort(), ['check', 'encrypt', 'write']);
      const created = report.created[0];
      assert.ok(created !== undefined);
      assert.equal((await trackShipment(db(), created.trackingToken, delivery.etaFor))?.status, 'created');

      const withDepot = await importShipments(delivery, [CSV_HEADER, csvLine({ depot: '' })].join('\n'), { ...options, defaultDepot: 'north' });
      assert.equal(withDepot.created.length, 1, 'the import\'s depot fills empty cells');
      await assert.rejects(importShipments(delivery, [CSV_HEADER, csvLine(), csvLine()].join('\n'), { ...options, maxRows: 1 }), hasCode('shipment.import_invalid'));
    });

    test('lists filter, sort and paginate with opaque cursors, and never decrypt', async () => {
      for (const [i, depotId] of ['south', 'south', 'south'].entries()) {
        await delivery.shipments.create(newShipment({ depotId, destination: { lat: 48.1, lon: 11.5 }, window: { start: `2026-08-0${i + 1}T08:00:00Z`, end: `2026-08-0${i + 1}T09:00:00Z` } }), change);
        clock.advance(1000);
      }
      const first = await listShipments(db(), { depot: 'south', sort: 'windowStart', order: 'desc', limit: 2 });
      assert.deepEqual(first.items.map((s) => s.window.start), ['2026-08-03T08:00:00.000Z', '2026-08-02T08:00:00.000Z']);
      assert.ok(first.nextCursor !== null);
      const second = await listShipments(db(), { depot: 'south', sort: 'windowStart', order: 'desc', limit: 2, cursor: first.nextCursor });
      assert.deepEqual(second.items.map((s) => s.window.start), ['2026-08-01T08:00:00.000Z']);
      assert.equal(second.nextCursor, null);
      assert.deepEqual((await listShipments(db(), { depots: ['north'], status: ['returned'], limit: 50 })).items.every((s) => s.depotId === 'north' && s.status === 'returned'), true);
      assert.deepEqual((await listShipments(db(), { depots: [], limit: 10 })).items, []);
      await assert.rejects(listShipments(db(), { limit: 10, cursor: 'not-a-cursor' }), hasCode('request.invalid'));
      assert.equal((await listShipments(db(), { windowFrom: '2026-08-02T00:00:00.000Z', windowTo: '2026-08-03T00:00:00.000Z', limit: 10 })).items.length, 1);
    });
  });
}
