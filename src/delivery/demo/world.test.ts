import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { simulatedId } from '../../simulate/fleet.ts';
import { distanceM } from '../../simulate/motion.ts';
import { checkServiceArea, insideServiceArea } from '../depots/service-area.ts';
import { shipmentProblems } from '../shipments/shipments.input.ts';
import { DEMO_DEPOTS, DEMO_DISPATCHER, DEMO_DRIVERS, DEMO_DRONES, DEMO_TRUCKS, demoServiceArea, demoShipments, RURAL_DEPOT, URBAN_DEPOT } from './world.ts';

// The Contoso demo world: the same every time, every shipment valid and
// inside its depot's service area, drone parcels within a drone's reach, and
// the fleet on the devices `rampart simulate` drives.

const DAY = '2026-07-01';

describe('the Contoso demo world', () => {
  test('has two depots, 4 drones, 6 trucks, 8 drivers and 60 shipments, the same on every call', () => {
    assert.deepEqual(DEMO_DEPOTS.map((d) => d.mode).sort(), ['drone', 'truck']);
    assert.equal(DEMO_DRONES.length, 4);
    assert.equal(DEMO_TRUCKS.length, 6);
    assert.equal(DEMO_DRIVERS.length, 8);
    assert.equal(new Set([...DEMO_DRIVERS, DEMO_DISPATCHER].map((a) => a.username)).size, 9);
    const all = DEMO_DEPOTS.flatMap((d) => demoShipments(d, DAY));
    assert.equal(all.length, 60);
    assert.deepEqual(DEMO_DEPOTS.flatMap((d) => demoShipments(d, DAY)), all, 'deterministic');
    assert.equal(new Set(all.map((s) => s.reference)).size, 60, 'references are unique');
    assert.equal(new Set(all.map((s) => s.recipient.address)).size, 60, 'no two shipments share an address');
    const nextDay = demoShipments(URBAN_DEPOT, '2026-07-02');
    assert.deepEqual(
      nextDay.map((s) => ({ ...s, window: null })),
      demoShipments(URBAN_DEPOT, DAY).map((s) => ({ ...s, window: null })),
      'only the windows follow the day',
    );
  });

  test('every shipment passes the shipment rules and lies inside its depot\'s service area', () => {
    for (const depot of DEMO_DEPOTS) {
      const area = demoServiceArea(depot);
      assert.doesNotThrow(() => checkServiceArea(area));
      assert.ok(insideServiceArea(area, depot.location.lat, depot.location.lon));
      for (const shipment of demoShipments(depot, DAY)) {
        assert.deepEqual(shipmentProblems(shipment), [], shipment.reference ?? '');
        assert.equal(shipment.depotId, depot.id);
        assert.equal(shipment.mode, depot.mode);
        assert.ok(insideServiceArea(area, shipment.destination.lat, shipment.destination.lon), `${shipment.reference ?? ''} inside ${depot.id}`);
        assert.ok(shipment.window.start.startsWith(DAY) && shipment.window.end.startsWith(DAY));
        if (shipment.recipient.phone !== null) assert.match(shipment.recipient.phone, /^\+44 7700 900\d{3}$/, 'drama numbers only');
      }
    }
  });

  test('drone parcels fit a drone: weight within its payload, round trip within its range less the 20 % reserve', () => {
    const drone = DEMO_DRONES[0];
    assert.ok(drone?.maxRangeKm !== undefined);
    for (const shipment of demoShipments(RURAL_DEPOT, DAY)) {
      assert.ok(shipment.parcel.weightKg <= drone.maxPayloadKg, shipment.reference ?? '');
      assert.ok((2 * distanceM(RURAL_DEPOT.location, shipment.destination)) / 1000 <= drone.maxRangeKm * 0.8, shipment.reference ?? '');
      assert.deepEqual(shipment.requiredProof, ['photo'], 'a drone cannot collect a signature');
    }
  });

  test('drones and trucks run on the simulator\'s devices, in their own depots', () => {
    assert.deepEqual(DEMO_DRONES.map((u) => u.deviceId), [1, 2, 3, 4].map((n) => simulatedId('drone', n)));
    assert.deepEqual(DEMO_TRUCKS.map((u) => u.deviceId), [1, 2, 3, 4, 5, 6].map((n) => simulatedId('truck', n)));
    assert.ok(DEMO_DRONES.every((u) => u.depotId === RURAL_DEPOT.id));
    assert.ok(DEMO_TRUCKS.every((u) => u.depotId === URBAN_DEPOT.id));
    assert.ok(DEMO_DRIVERS.every((d) => d.role === 'driver' && d.homeDepotId !== undefined));
  });
});
