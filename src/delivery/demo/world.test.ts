import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { simulatedId } from '../../simulate/fleet.ts';
import { distanceMetres } from '../../kernel/geo.ts';
import { checkServiceArea, insideServiceArea } from '../depots/service-area.ts';
import { shipmentProblems } from '../shipments/shipments.input.ts';
import { addDays, DEMO_DEPOTS, DEMO_DISPATCHER, DEMO_DRIVERS, DEMO_DRONES, DEMO_ROUTES, DEMO_TRUCKS, demoRouteReferences, demoServiceArea, demoShipments, RURAL_DEPOT, SHIPMENTS_PER_DEPOT, URBAN_DEPOT } from './world.ts';

// The Contoso demo world: the same every time, every shipment valid and
// inside its depot's service area, drone parcels within a drone's reach, the
// fleet on the devices `rampart simulate` drives, and one route per driver
// whose stops a route may take (its depot's van shipments on its day).

const DAY = '2026-07-01';
const NEXT_DAY = '2026-07-02';
const all = () => DEMO_DEPOTS.flatMap((d) => demoShipments(d, DAY));
const times = (n: number, value: string) => Array.from({ length: n }, () => value);

describe('the Contoso demo world', () => {
  test('has two depots, 4 drones, 6 trucks, 8 drivers and 60 shipments, the same on every call', () => {
    assert.deepEqual(DEMO_DEPOTS.map((d) => d.setting).sort(), ['rural', 'urban']);
    assert.equal(DEMO_DRONES.length, 4);
    assert.equal(DEMO_TRUCKS.length, 6);
    assert.equal(DEMO_DRIVERS.length, 8);
    assert.equal(new Set([...DEMO_DRIVERS, DEMO_DISPATCHER].map((a) => a.username)).size, 9);
    const shipments = all();
    assert.equal(shipments.length, 60);
    assert.deepEqual(all(), shipments, 'deterministic');
    assert.deepEqual(SHIPMENTS_PER_DEPOT, { [URBAN_DEPOT.id]: 32, [RURAL_DEPOT.id]: 28 });
    assert.equal(new Set(shipments.map((s) => s.reference)).size, 60, 'references are unique');
    assert.equal(new Set(shipments.map((s) => s.recipient.address)).size, 60, 'no two shipments share an address');
    const later = demoShipments(URBAN_DEPOT, NEXT_DAY);
    assert.deepEqual(
      later.map((s) => ({ ...s, window: null })),
      demoShipments(URBAN_DEPOT, DAY).map((s) => ({ ...s, window: null })),
      'only the windows follow the day',
    );
    assert.deepEqual(later.map((s) => s.window.start.slice(0, 10)), demoShipments(URBAN_DEPOT, DAY).map((s) => addDays(s.window.start.slice(0, 10), 1)));
  });

  test('the city has 32 van shipments over two days; the drone base 8 heavy van shipments and 20 drone shipments, all on the day', () => {
    const count = (depot: typeof URBAN_DEPOT, mode: string, day: string) => demoShipments(depot, DAY).filter((s) => s.mode === mode && s.window.start.startsWith(day)).length;
    assert.deepEqual([count(URBAN_DEPOT, 'truck', DAY), count(URBAN_DEPOT, 'truck', NEXT_DAY), count(URBAN_DEPOT, 'drone', DAY)], [20, 12, 0]);
    assert.deepEqual([count(RURAL_DEPOT, 'truck', DAY), count(RURAL_DEPOT, 'drone', DAY), count(RURAL_DEPOT, 'truck', NEXT_DAY)], [8, 20, 0]);
    const payload = Math.max(...DEMO_DRONES.map((d) => d.maxPayloadKg));
    for (const s of demoShipments(RURAL_DEPOT, DAY).filter((x) => x.mode === 'truck')) assert.ok(s.parcel.weightKg > payload, `${s.reference ?? ''} goes by van because no drone carries it`);
  });

  test('every shipment passes the shipment rules and lies inside its depot\'s service area', () => {
    for (const depot of DEMO_DEPOTS) {
      const area = demoServiceArea(depot);
      assert.doesNotThrow(() => checkServiceArea(area));
      assert.ok(insideServiceArea(area, depot.location.lat, depot.location.lon));
      for (const shipment of demoShipments(depot, DAY)) {
        assert.deepEqual(shipmentProblems(shipment), [], shipment.reference ?? '');
        assert.equal(shipment.depotId, depot.id);
        assert.ok(insideServiceArea(area, shipment.destination.lat, shipment.destination.lon), `${shipment.reference ?? ''} inside ${depot.id}`);
        const day = shipment.window.start.slice(0, 10);
        assert.ok(day === DAY || day === NEXT_DAY);
        assert.ok(shipment.window.end.startsWith(day) && shipment.window.start < shipment.window.end);
        if (shipment.recipient.phone !== null) assert.match(shipment.recipient.phone, /^\+44 7700 900\d{3}$/, 'drama numbers only');
      }
    }
  });

  test('drone parcels fit a drone: weight within its payload, round trip within its range less the 20 % reserve', () => {
    const drone = DEMO_DRONES[0];
    assert.ok(drone?.maxRangeKm !== undefined);
    const drones = demoShipments(RURAL_DEPOT, DAY).filter((s) => s.mode === 'drone');
    assert.equal(drones.length, 20);
    for (const shipment of drones) {
      assert.ok(shipment.parcel.weightKg <= drone.maxPayloadKg, shipment.reference ?? '');
      assert.ok((2 * distanceMetres(RURAL_DEPOT.location, shipment.destination)) / 1000 <= drone.maxRangeKm * 0.8, shipment.reference ?? '');
      assert.deepEqual(shipment.requiredProof, ['photo'], 'a drone cannot collect a signature');
    }
  });

  test('drones and trucks run on the simulator\'s devices: four vans in the city, two vans and the drones at the drone base', () => {
    assert.deepEqual(DEMO_DRONES.map((u) => u.deviceId), [1, 2, 3, 4].map((n) => simulatedId('drone', n)));
    assert.deepEqual(DEMO_TRUCKS.map((u) => u.deviceId), [1, 2, 3, 4, 5, 6].map((n) => simulatedId('truck', n)));
    assert.ok(DEMO_DRONES.every((u) => u.depotId === RURAL_DEPOT.id));
    assert.deepEqual(DEMO_TRUCKS.map((u) => u.depotId), [...times(4, URBAN_DEPOT.id), ...times(2, RURAL_DEPOT.id)]);
    assert.ok(DEMO_DRIVERS.every((d) => d.role === 'driver' && d.homeDepotId !== undefined));
    assert.deepEqual(DEMO_DRIVERS.map((d) => d.homeDepotId), [...times(6, URBAN_DEPOT.id), ...times(2, RURAL_DEPOT.id)]);
  });

  test('one route per driver, on a van of the driver\'s depot, each van once a day; every van shipment on exactly one route of its day', () => {
    assert.equal(DEMO_ROUTES.length, 8);
    assert.deepEqual(DEMO_ROUTES.map((r) => r.driver).sort(), DEMO_DRIVERS.map((d) => d.username).sort());
    const shipments = all();
    const onRoutes: string[] = [];
    for (const route of DEMO_ROUTES) {
      const driver = DEMO_DRIVERS.find((d) => d.username === route.driver);
      const van = DEMO_TRUCKS.find((t) => t.id === route.vehicleId);
      assert.equal(route.depotId, driver?.homeDepotId, route.driver);
      assert.equal(van?.depotId, route.depotId, `${route.driver}'s van`);
      assert.equal(DEMO_ROUTES.filter((r) => r.vehicleId === route.vehicleId && r.dayOffset === route.dayOffset).length, 1, `${route.vehicleId} serves one route a day`);
      const stops = shipments.filter((s) => demoRouteReferences(route).includes(s.reference ?? ''));
      assert.equal(stops.length, route.stops);
      for (const stop of stops) {
        assert.equal(stop.depotId, route.depotId);
        assert.equal(stop.mode, 'truck');
        assert.ok(stop.window.start.startsWith(addDays(DAY, route.dayOffset)), `${stop.reference ?? ''} on ${route.driver}'s day`);
      }
      const kg = stops.reduce((total, s) => total + s.parcel.weightKg, 0);
      assert.ok(kg <= van.maxPayloadKg, `${route.driver}'s parcels fit the van`);
      onRoutes.push(...demoRouteReferences(route));
    }
    assert.equal(new Set(onRoutes).size, onRoutes.length, 'no shipment on two routes');
    assert.deepEqual(onRoutes.sort(), shipments.filter((s) => s.mode === 'truck').map((s) => s.reference ?? '').sort(), 'every van shipment is on a route');
    assert.deepEqual(
      [0, 1].map((offset) => DEMO_ROUTES.filter((r) => r.dayOffset === offset).length),
      [6, 2],
      'today a route for every van (four in the city, two at the drone base); tomorrow the city\'s other two drivers',
    );
  });
});
