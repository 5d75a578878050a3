import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DEPOT, START_MS } from '../../../test/support/planning.ts';
import { greatCircleMatrixProvider, type TravelMatrix } from './matrix.ts';
import { optimiseRoute } from './optimise.ts';
import { LATENESS_PENALTY_METRES_PER_SECOND } from './schedule.ts';
import type { RouteStop } from './validate.ts';

const provider = greatCircleMatrixProvider({ averageSpeedKmh: 30 });

const stopArbitrary = fc.record({
  dLat: fc.double({ min: -0.2, max: 0.2, noNaN: true }),
  dLon: fc.double({ min: -0.3, max: 0.3, noNaN: true }),
  window: fc.option(fc.record({ opensMin: fc.integer({ min: 0, max: 480 }), lengthMin: fc.integer({ min: 0, max: 180 }) }), { nil: undefined }),
  serviceSeconds: fc.option(fc.integer({ min: 0, max: 1800 }), { nil: undefined }),
});

/** Up to 14 stops, and per-direction detour factors making the matrix asymmetric (or none: straight lines). */
const instanceArbitrary = fc.record({
  stops: fc.array(stopArbitrary, { maxLength: 14 }),
  detours: fc.option(fc.array(fc.double({ min: 1, max: 1.6, noNaN: true }), { minLength: 225, maxLength: 225 }), { nil: undefined }),
});

type Instance = typeof instanceArbitrary extends fc.Arbitrary<infer T> ? T : never;

async function build(instance: Instance): Promise<{ stops: RouteStop[]; matrix: TravelMatrix }> {
  const stops: RouteStop[] = instance.stops.map((s, i) => ({
    id: `stop-${i}`,
    point: { lat: DEPOT.lat + s.dLat, lon: DEPOT.lon + s.dLon },
    ...(s.window === undefined ? {} : { window: [START_MS + s.window.opensMin * 60_000, START_MS + (s.window.opensMin + s.window.lengthMin) * 60_000] as const }),
    ...(s.serviceSeconds === undefined ? {} : { serviceSeconds: s.serviceSeconds }),
  }));
  const straight = await provider.matrix([{ id: 'depot', point: DEPOT }, ...stops.map((s) => ({ id: s.id, point: s.point }))]);
  if (instance.detours === undefined) return { stops, matrix: straight };
  const factor = (i: number, j: number) => instance.detours?.[i * 15 + j] ?? 1;
  return {
    stops,
    matrix: {
      provider: 'osrm',
      distancesMetres: straight.distancesMetres.map((row, i) => row.map((d, j) => d * factor(i, j))),
      durationsSeconds: straight.durationsSeconds.map((row, i) => row.map((t, j) => t * factor(j, i))),
    },
  };
}

/** Distance + penalty × lateness of the stops in input order, computed here independently of the optimiser. */
function inputOrderCost(stops: readonly RouteStop[], matrix: TravelMatrix, defaultService: number): number {
  let at = 0;
  let time = START_MS / 1000;
  let distance = 0;
  let lateness = 0;
  stops.forEach((stop, i) => {
    distance += matrix.distancesMetres[at]![i + 1]!;
    const arrival = time + matrix.durationsSeconds[at]![i + 1]!;
    const start = stop.window === undefined ? arrival : Math.max(arrival, Number(stop.window[0]) / 1000);
    if (stop.window !== undefined) lateness += Math.max(0, start - Number(stop.window[1]) / 1000);
    time = start + (stop.serviceSeconds ?? defaultService);
    at = i + 1;
  });
  distance += matrix.distancesMetres[at]![0]!;
  return distance + LATENESS_PENALTY_METRES_PER_SECOND * lateness;
}

const DEFAULT_SERVICE = 240;

describe('stop-order optimiser properties', () => {
  test('visits every stop exactly once, numbered 1…n', async () => {
    await fc.assert(
      fc.asyncProperty(instanceArbitrary, async (instance) => {
        const { stops, matrix } = await build(instance);
        const route = optimiseRoute({ depot: DEPOT, stops, startAt: START_MS, defaultServiceSeconds: DEFAULT_SERVICE }, matrix);
        assert.deepEqual(route.stops.map((s) => s.id).sort(), stops.map((s) => s.id).sort());
        assert.deepEqual(route.stops.map((s) => s.sequence), stops.map((_, i) => i + 1));
      }),
      { numRuns: 150 },
    );
  });

  test('total distance is the sum of the legs, and each leg is the matrix cell between consecutive locations', async () => {
    await fc.assert(
      fc.asyncProperty(instanceArbitrary, async (instance) => {
        const { stops, matrix } = await build(instance);
        const route = optimiseRoute({ depot: DEPOT, stops, startAt: START_MS, defaultServiceSeconds: DEFAULT_SERVICE }, matrix);
        const legs = [...route.stops.map((s) => s.leg.distanceMetres), route.returnLeg.distanceMetres];
        assert.equal(route.totalDistanceMetres, legs.reduce((a, b) => a + b, 0));
        const path = [0, ...route.stops.map((s) => stops.findIndex((x) => x.id === s.id) + 1), 0];
        legs.forEach((leg, k) => assert.equal(leg, matrix.distancesMetres[path[k]!]![path[k + 1]!]));
      }),
      { numRuns: 150 },
    );
  });

  test('each stop\'s times follow from the previous departure, its window and its service time', async () => {
    await fc.assert(
      fc.asyncProperty(instanceArbitrary, async (instance) => {
        const { stops, matrix } = await build(instance);
        const route = optimiseRoute({ depot: DEPOT, stops, startAt: START_MS, defaultServiceSeconds: DEFAULT_SERVICE }, matrix);
        let departed = Date.parse(route.startAt);
        for (const stop of route.stops) {
          const given = stops.find((s) => s.id === stop.id)!;
          const eta = Date.parse(stop.eta);
          assert.ok(Math.abs(eta - (departed + stop.leg.durationSeconds * 1000)) <= 2, 'arrival = previous departure + drive');
          const opens = given.window === undefined ? -Infinity : Number(given.window[0]);
          const closes = given.window === undefined ? Infinity : Number(given.window[1]);
          const serviceStart = Date.parse(stop.serviceStartAt);
          assert.ok(Math.abs(serviceStart - Math.max(eta, opens)) <= 2, 'service starts on arrival or when the window opens');
          assert.ok(Math.abs(stop.latenessSeconds * 1000 - Math.max(0, serviceStart - closes)) <= 2, 'lateness is the start past the window');
          assert.equal(stop.serviceSeconds, given.serviceSeconds ?? DEFAULT_SERVICE);
          departed = Date.parse(stop.departureAt);
          assert.ok(Math.abs(departed - (serviceStart + stop.serviceSeconds * 1000)) <= 2);
        }
        assert.deepEqual(route.lateStopIds, route.stops.filter((s) => s.latenessSeconds > 0).map((s) => s.id));
      }),
      { numRuns: 150 },
    );
  });

  test('never costs more than visiting the stops in the order given', async () => {
    await fc.assert(
      fc.asyncProperty(instanceArbitrary, async (instance) => {
        const { stops, matrix } = await build(instance);
        const route = optimiseRoute({ depot: DEPOT, stops, startAt: START_MS, defaultServiceSeconds: DEFAULT_SERVICE }, matrix);
        const cost = route.totalDistanceMetres + LATENESS_PENALTY_METRES_PER_SECOND * route.totalLatenessSeconds;
        const given = inputOrderCost(stops, matrix, DEFAULT_SERVICE);
        assert.ok(cost <= given * (1 + 1e-9) + 1, `${cost} > ${given}`);
      }),
      { numRuns: 150 },
    );
  });
});
