import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hasCode } from '../../../test/support/errors.ts';
import { ManualClock } from '../../kernel/clock.ts';
import { encodeDroneMission, missionRefusals, planDroneMission, type DroneMissionRequest, type DroneMissionSettings } from './drone-mission.ts';
import { MissionRefusedError } from './errors.ts';
import { rectangle } from '../../../test/support/planning.ts';
import { distanceMetres, type PolygonCoordinates } from './geo.ts';

// The depot and drop point are 13.6 km apart on one parallel; the airport zone straddles the
// line between them, every corner of it more than 6 km from either end.
const DEPOT = { lat: 52.5, lon: 13.3 };
const DROP = { lat: 52.5, lon: 13.5 };
const AIRPORT: PolygonCoordinates = [rectangle(13.39, 52.45, 13.41, 52.55)];
const PARK_WITH_CLEARING: PolygonCoordinates = [rectangle(13.0, 52.0, 13.2, 52.2), rectangle(13.05, 52.05, 13.15, 52.15)];

const settings = (overrides: Partial<DroneMissionSettings> = {}): DroneMissionSettings => ({
  cruiseSpeedKmh: 54,
  cruiseAltitudeM: 100,
  rangeReservePercent: 20,
  noFlyZones: [],
  ...overrides,
});

const request = (overrides: Partial<DroneMissionRequest> = {}): DroneMissionRequest => ({
  shipmentId: 'shp_1',
  droneId: 'drone-7',
  drone: { maxRangeKm: 40, maxPayloadKg: 2.5 },
  depot: DEPOT,
  drop: DROP,
  parcelWeightKg: 1.2,
  ...overrides,
});

const clock = new ManualClock('2026-03-02T09:30:00.000Z');

describe('drone missions', () => {
  test('plans depot → drop → depot at cruise altitude, with a random id, distance and duration', () => {
    const mission = planDroneMission(request(), settings({ noFlyZones: [{ name: 'elsewhere', polygon: PARK_WITH_CLEARING }] }), { clock });
    const roundTrip = 2 * distanceMetres(DEPOT, DROP);
    assert.match(mission.missionId, /^msn_[A-Za-z0-9_-]{22}$/);
    assert.notEqual(planDroneMission(request(), settings(), { clock }).missionId, mission.missionId);
    assert.equal(mission.type, 'rampart.drone-mission');
    assert.equal(mission.droneId, 'drone-7');
    assert.equal(mission.shipmentId, 'shp_1');
    assert.equal(mission.createdAt, '2026-03-02T09:30:00.000Z');
    assert.equal(mission.distanceMetres, Math.round(roundTrip * 10) / 10);
    assert.equal(mission.cruiseSpeedMps, 15);
    assert.equal(mission.estimatedDurationSeconds, Math.ceil(roundTrip / 15));
    assert.deepEqual(
      mission.waypoints.map((w) => [w.sequence, w.action, w.lat, w.lon, w.altitudeM]),
      [
        [1, 'takeoff', 52.5, 13.3, 100],
        [2, 'cruise', 52.5, 13.5, 100],
        [3, 'drop', 52.5, 13.5, 100],
        [4, 'return', 52.5, 13.3, 100],
        [5, 'land', 52.5, 13.3, 0],
      ],
    );
  });

  test('encodes the mission as canonical JSON for the device-bound topic', () => {
    const mission = planDroneMission(request(), settings(), { clock, newMissionId: () => 'msn_test' });
    const text = encodeDroneMission(mission).toString('utf8');
    assert.deepEqual(JSON.parse(text), mission);
    assert.ok(text.startsWith('{"createdAt":"2026-03-02T09:30:00.000Z","cruiseAltitudeM":100,'), text.slice(0, 60));
    assert.equal(encodeDroneMission({ ...mission }).toString('utf8'), text);
  });

  test('refuses a straight leg through a no-fly zone whose corners are all away from both ends', () => {
    assert.throws(
      () => planDroneMission(request(), settings({ noFlyZones: [{ name: 'airport', polygon: AIRPORT }] }), { clock }),
      (error: unknown) => {
        hasCode('planning.mission_refused', /no-fly zone "airport": the straight leg crosses it/)(error);
        assert.ok(error instanceof MissionRefusedError);
        assert.equal(error.status, 422);
        assert.deepEqual(error.reasons, [{ kind: 'no_fly', zone: 'airport', depotInside: false, dropInside: false, message: 'no-fly zone "airport": the straight leg crosses it' }]);
        return true;
      },
    );
  });

  test('refuses a drop point inside a zone, and one in a zone\'s hole that can only be reached across it', () => {
    const inside = missionRefusals(request({ drop: { lat: 52.5, lon: 13.4 } }), settings({ noFlyZones: [{ name: 'airport', polygon: AIRPORT }] }));
    assert.deepEqual(inside.map((r) => r.kind === 'no_fly' && [r.zone, r.depotInside, r.dropInside]), [['airport', false, true]]);
    const clearing = { lat: 52.1, lon: 13.1 };
    const fromOutside = missionRefusals(request({ drop: clearing, drone: { maxRangeKm: 200, maxPayloadKg: 2.5 } }), settings({ noFlyZones: [{ name: 'park', polygon: PARK_WITH_CLEARING }] }));
    assert.deepEqual(fromOutside.map((r) => r.kind === 'no_fly' && [r.zone, r.depotInside, r.dropInside]), [['park', false, false]]);
    assert.deepEqual(missionRefusals(request({ depot: { lat: 52.08, lon: 13.08 }, drop: clearing }), settings({ noFlyZones: [{ name: 'park', polygon: PARK_WITH_CLEARING }] })), [], 'both ends in the clearing');
  });

  test('refuses a round trip beyond the range left after the reserve, with needed and available km', () => {
    // 27.2 km round trip; 30 km less 20 % leaves 24 km.
    const reasons = missionRefusals(request({ drone: { maxRangeKm: 30, maxPayloadKg: 2.5 } }), settings());
    assert.equal(reasons.length, 1);
    const range = reasons[0]!;
    assert.ok(range.kind === 'range');
    assert.equal(range.neededKm, Math.round(((2 * distanceMetres(DEPOT, DROP)) / 1000) * 1000) / 1000);
    assert.equal(range.availableKm, 24);
    assert.match(range.message, /round trip is 27\.\d+ km but the drone may fly 24 km \(30 km less a 20 % reserve\)/);
    assert.deepEqual(missionRefusals(request({ drone: { maxRangeKm: 30, maxPayloadKg: 2.5 } }), settings({ rangeReservePercent: 5 })), [], 'with a 5 % reserve it fits');
  });

  test('refuses a parcel above the payload limit', () => {
    assert.deepEqual(missionRefusals(request({ parcelWeightKg: 3 }), settings()), [
      { kind: 'payload', weightKg: 3, maxPayloadKg: 2.5, message: 'payload: the parcel weighs 3 kg but the drone carries at most 2.5 kg' },
    ]);
  });

  test('lists every reason at once: each zone, range and payload', () => {
    const zones = [
      { name: 'airport', polygon: AIRPORT },
      { name: 'stadium', polygon: [rectangle(13.45, 52.49, 13.46, 52.51)] },
    ];
    assert.throws(
      () => planDroneMission(request({ parcelWeightKg: 4, drone: { maxRangeKm: 10, maxPayloadKg: 2.5 } }), settings({ noFlyZones: zones }), { clock }),
      (error: unknown) => {
        assert.ok(error instanceof MissionRefusedError);
        assert.deepEqual(error.reasons.map((r) => r.kind), ['no_fly', 'no_fly', 'range', 'payload']);
        assert.equal(error.publicDetail?.split('; ').length, 4);
        return true;
      },
    );
  });

  test('refuses malformed requests as input errors, including legs across the antimeridian', () => {
    assert.throws(() => missionRefusals(request({ drop: { lat: 95, lon: 13 }, parcelWeightKg: 0 }), settings()), hasCode('planning.invalid_input', /drop\.lat/, /parcelWeightKg: must be a positive number/));
    assert.throws(() => missionRefusals(request({ depot: { lat: -17, lon: 179.9 }, drop: { lat: -17, lon: -179.9 } }), settings()), hasCode('planning.invalid_input', /antimeridian/));
  });
});
