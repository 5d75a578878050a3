import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { telemetrySchema } from '../telemetry/payload-schemas.ts';
import { distanceMetres } from '../kernel/geo.ts';
import { bearingDeg, destination, SimulatedDrone, SimulatedTruck, xorshift, type FlightState } from './motion.ts';

const DEPOT = { lat: 52.205, lon: 0.119 };

describe('simulated motion', () => {
  test('great-circle helpers agree with each other', () => {
    const far = destination(DEPOT, 60, 5_000);
    assert.ok(Math.abs(distanceMetres(DEPOT, far) - 5_000) < 0.5);
    assert.ok(Math.abs(bearingDeg(DEPOT, far) - 60) < 0.1);
    assert.ok(Math.abs(distanceMetres({ lat: 0, lon: 0 }, { lat: 0, lon: 1 }) - 111_195) < 1);
  });

  test('the generator is deterministic per seed and stays in [0, 1)', () => {
    const a = xorshift(7);
    const b = xorshift(7);
    const values = Array.from({ length: 1000 }, () => a());
    assert.deepEqual(values.slice(0, 5), Array.from({ length: 5 }, () => b()));
    assert.ok(values.every((v) => v >= 0 && v < 1));
  });

  test('a drone flies a whole mission: out, drop, home, land — within range, battery sane', () => {
    const drone = new SimulatedDrone(DEPOT, 42);
    const states: FlightState[] = [];
    let now = new Date('2026-06-01T10:00:00Z');
    let maxDistance = 0;
    for (let i = 0; i < 4 * 3600; i++) {
      now = new Date(now.getTime() + 1000);
      const sample = drone.step(1, now);
      if (states.at(-1) !== sample.flightState) states.push(sample.flightState);
      maxDistance = Math.max(maxDistance, distanceMetres(DEPOT, sample));
      assert.ok(sample.battery >= 0 && sample.battery <= 100);
      assert.ok(sample.altitude >= 0 && sample.altitude <= 100);
      assert.ok(sample.groundSpeed <= 15.01);
      if (i % 97 === 0) assert.equal(telemetrySchema('drone')?.firstProblem(sample), undefined, 'the hub\'s schema accepts every sample');
    }
    assert.deepEqual(states.slice(0, 8), ['grounded', 'takeoff', 'cruise', 'landing', 'takeoff', 'cruise', 'landing', 'grounded']);
    assert.ok(maxDistance > 1_900 && maxDistance < 8_100, `flew ${maxDistance} m out`);
  });

  test('a truck drives its loop at city speeds and its odometer only grows', () => {
    const truck = new SimulatedTruck(DEPOT, 3);
    let now = new Date('2026-06-01T10:00:00Z');
    let odometer = -1;
    for (let i = 0; i < 2000; i++) {
      now = new Date(now.getTime() + 5000);
      const sample = truck.step(5, now);
      assert.ok(sample.speed >= 0 && sample.speed <= 14.01, `speed ${sample.speed} m/s`);
      assert.equal(telemetrySchema('truck')?.firstProblem(sample), undefined);
      assert.ok(sample.odometer >= odometer);
      odometer = sample.odometer;
      assert.ok(distanceMetres(DEPOT, sample) < 4_600);
    }
  });
});
