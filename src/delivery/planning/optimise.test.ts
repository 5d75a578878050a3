import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hasCode } from '../../../test/support/errors.ts';
import { PlanningInputError } from './errors.ts';
import { bruteForceShortest, DEPOT, offset, scatteredStops, seededRandom, START, START_MS, tourDistance } from '../../../test/support/planning.ts';
import { greatCircleMatrixProvider, type MatrixLocation, type TravelMatrix } from './matrix.ts';
import { DEPOT_LOCATION_ID, optimiseRoute, planRoute } from './optimise.ts';
import type { RouteProblem, RouteStop } from './validate.ts';

const provider = greatCircleMatrixProvider({ averageSpeedKmh: 36 }); // 10 m/s: easy arithmetic
const locationsOf = (stops: readonly RouteStop[]): MatrixLocation[] => [{ id: DEPOT_LOCATION_ID, point: DEPOT }, ...stops.map((s) => ({ id: s.id, point: s.point }))];
const matrixFor = (stops: readonly RouteStop[]) => provider.matrix(locationsOf(stops));
const problemOf = (stops: readonly RouteStop[], extra: Partial<RouteProblem> = {}): RouteProblem => ({ depot: DEPOT, stops, startAt: START, ...extra });
const at = (minutes: number) => new Date(START_MS + minutes * 60_000).toISOString();

/** A road-like matrix: each direction of each pair a different detour of 0–40 % over the straight line. */
function detoured(matrix: TravelMatrix, seed: string): TravelMatrix {
  const random = seededRandom(seed);
  const distancesMetres = matrix.distancesMetres.map((row) => row.map((d) => d * (1 + 0.4 * random())));
  return { provider: 'osrm', distancesMetres, durationsSeconds: distancesMetres.map((row) => row.map((d) => d / 10)) };
}

describe('stop-order optimiser', () => {
  test('orders a fixed scattered instance shorter than the order it was given', async () => {
    const stops = scatteredStops('fixed-instance', 12);
    const route = await planRoute(problemOf(stops), provider);
    const given = tourDistance(await matrixFor(stops), stops, stops.map((s) => s.id));
    assert.equal(route.inputOrderDistanceMetres, given);
    assert.ok(route.totalDistanceMetres < given * 0.8, `${route.totalDistanceMetres} should beat the input order's ${given} by far`);
    assert.equal(route.provider, 'great-circle');
  });

  test('is within 10 % of the brute-force optimum on every test instance of 5 to 9 stops (the documented bound)', async (t) => {
    let worst = 1;
    for (let n = 5; n <= 9; n++) {
      for (const variant of ['a', 'b', 'c']) {
        const stops = scatteredStops(`bound-${n}-${variant}`, n, 15);
        const straight = await matrixFor(stops);
        for (const matrix of [straight, detoured(straight, `detour-${n}-${variant}`)]) {
          const route = optimiseRoute(problemOf(stops), matrix);
          const optimum = bruteForceShortest(matrix);
          const ratio = route.totalDistanceMetres / optimum;
          worst = Math.max(worst, ratio);
          assert.ok(ratio <= 1.1, `${n} stops (${variant}, ${matrix.provider}): ${route.totalDistanceMetres.toFixed(0)} m vs optimum ${optimum.toFixed(0)} m`);
        }
      }
    }
    t.diagnostic(`worst ratio to the optimum over 30 instances: ${worst.toFixed(4)}`);
  });

  test('serves the early window first and waits when it arrives before a window opens', async () => {
    // The near stop may only be served late in the morning; the far one only early.
    const near = { id: 'near', point: offset(DEPOT, 1, 0), window: [at(120), at(180)] as const };
    const far = { id: 'far', point: offset(DEPOT, -6, 0), window: [at(0), at(30)] as const };
    const route = await planRoute(problemOf([near, far], { defaultServiceSeconds: 300 }), provider);
    assert.deepEqual(route.stops.map((s) => s.id), ['far', 'near']);
    assert.deepEqual(route.lateStopIds, []);
    assert.equal(route.totalLatenessSeconds, 0);
    for (const stop of route.stops) {
      assert.ok(stop.window !== undefined);
      assert.ok(stop.serviceStartAt >= stop.window.start && stop.serviceStartAt <= stop.window.end, `${stop.id} served at ${stop.serviceStartAt}`);
    }
    const second = route.stops[1]!;
    assert.ok(second.waitSeconds > 0, 'arrives early and waits');
    assert.equal(second.serviceStartAt, at(120));
    assert.equal(Date.parse(second.serviceStartAt) - Date.parse(second.eta), second.waitSeconds * 1000);
  });

  test('reports a window that cannot be met as lateness on that stop, and still visits it', async () => {
    // 20 km away at 10 m/s is 2000 s of driving; the window closes after 10 minutes.
    const hopeless = { id: 'hopeless', point: offset(DEPOT, 20, 0), window: [at(0), at(10)] as const };
    const easy = { id: 'easy', point: offset(DEPOT, 0, 2) };
    const route = await planRoute(problemOf([easy, hopeless]), provider);
    assert.deepEqual(route.stops.map((s) => s.id).sort(), ['easy', 'hopeless']);
    assert.equal(route.stops[0]!.id, 'hopeless', 'goes there first to be as little late as possible');
    const late = route.stops[0]!;
    assert.deepEqual(route.lateStopIds, ['hopeless']);
    assert.ok(Math.abs(late.latenessSeconds - (late.leg.durationSeconds - 600)) < 0.01, `lateness ${late.latenessSeconds}`);
    assert.equal(route.totalLatenessSeconds, late.latenessSeconds);
  });

  test('keeps on time a window that only a detour can meet, at the cost of distance', async () => {
    // Geographically b sits between a and c, but b's window closes early: going to b first is longer yet on time.
    const a = { id: 'a', point: offset(DEPOT, 2, 0) };
    const b = { id: 'b', point: offset(DEPOT, 4, 0), window: [at(0), at(8)] as const };
    const c = { id: 'c', point: offset(DEPOT, 3, 0) };
    const route = await planRoute(problemOf([a, c, b], { defaultServiceSeconds: 600 }), provider);
    assert.equal(route.stops[0]!.id, 'b');
    assert.deepEqual(route.lateStopIds, []);
  });

  test('applies each stop\'s service time, or the default', async () => {
    const stops = [
      { id: 'quick', point: offset(DEPOT, 1, 0), serviceSeconds: 30 },
      { id: 'default', point: offset(DEPOT, 2, 0) },
    ];
    const route = await planRoute(problemOf(stops, { defaultServiceSeconds: 420 }), provider);
    const byId = new Map(route.stops.map((s) => [s.id, s]));
    assert.equal(byId.get('quick')!.serviceSeconds, 30);
    assert.equal(byId.get('default')!.serviceSeconds, 420);
    assert.equal(route.totalServiceSeconds, 450);
    assert.equal(route.totalDurationSeconds, route.totalTravelSeconds + route.totalServiceSeconds + route.totalWaitSeconds);
    assert.equal(Date.parse(route.returnAt) - Date.parse(route.startAt), route.totalDurationSeconds * 1000);
  });

  test('gives the same plan for the same input, and reads epoch-millisecond and ISO windows alike', async () => {
    const stops = scatteredStops('determinism', 15).map((s, i) => (i % 3 === 0 ? { ...s, window: [at(i * 5), at(i * 5 + 90)] as const } : s));
    const first = await planRoute(problemOf(stops), provider);
    const second = await planRoute(problemOf(stops), provider);
    assert.deepEqual(second, first);
    const numeric = stops.map((s) => (s.window === undefined ? s : { ...s, window: [Date.parse(String(s.window[0])), Date.parse(String(s.window[1]))] as const }));
    assert.deepEqual(await planRoute(problemOf(numeric, { startAt: START_MS }), provider), first);
  });

  test('passes shipment ids and tracking numbers through to the plan', async () => {
    const route = await planRoute(problemOf([{ id: 'stop-1', point: offset(DEPOT, 1, 1), shipmentId: 'shp_1', trackingNumber: 'RMP-0001' }]), provider);
    assert.equal(route.stops[0]!.shipmentId, 'shp_1');
    assert.equal(route.stops[0]!.trackingNumber, 'RMP-0001');
    assert.equal(route.stops[0]!.sequence, 1);
  });

  test('plans an empty route as staying at the depot', async () => {
    const route = await planRoute(problemOf([]), provider);
    assert.equal(route.stops.length, 0);
    assert.equal(route.totalDistanceMetres, 0);
    assert.equal(route.returnAt, route.startAt);
  });

  test('refuses malformed input, listing every problem, before asking for a matrix', async () => {
    let asked = false;
    const spy = { ...provider, matrix: (l: readonly MatrixLocation[]) => ((asked = true), provider.matrix(l)) };
    const stops: RouteStop[] = [
      { id: 'dup', point: { lat: 91, lon: 0 } },
      { id: 'dup', point: { lat: 0, lon: 0 }, window: ['2026-03-02T10:00:00Z', '2026-03-02T09:00:00Z'] },
      { id: 'local', point: { lat: 0, lon: 0 }, window: ['2026-03-02T10:00', '2026-03-02T11:00:00Z'] },
      { id: 'slow', point: { lat: 0, lon: 0 }, serviceSeconds: -1 },
    ];
    await assert.rejects(
      planRoute(problemOf(stops, { startAt: 'tomorrow' }), spy),
      (error: unknown) => {
        hasCode('planning.invalid_input')(error);
        assert.ok(error instanceof PlanningInputError);
        assert.deepEqual(error.problems, [
          'startAt: must be epoch milliseconds or an ISO 8601 date-time with a zone (Z or ±hh:mm)',
          'stops[0].point.lat: must be a latitude in [-90, 90]',
          'stops[1].id: "dup" appears more than once',
          'stops[1].window: ends before it starts',
          'stops[2].window[0]: must be epoch milliseconds or an ISO 8601 date-time with a zone (Z or ±hh:mm)',
          'stops[3].serviceSeconds: must be seconds in [0, 86400]',
        ]);
        return true;
      },
    );
    assert.equal(asked, false);
    await assert.rejects(planRoute(problemOf(scatteredStops('too-many', 100)), provider), hasCode('planning.invalid_input', /at most 99 per route/));
  });

  test('refuses a matrix of the wrong size', () => {
    const stops = scatteredStops('size', 3);
    assert.throws(() => optimiseRoute(problemOf(stops), { provider: 'osrm', distancesMetres: [[0]], durationsSeconds: [[0]] }), hasCode('planning.routing_failed', /not 4×4/));
  });

  test('plans the largest route, 99 stops with windows, in a few seconds at most', async (t) => {
    const stops = scatteredStops('largest', 99, 25).map((s, i) => (i % 4 === 0 ? { ...s, window: [at(i * 3), at(i * 3 + 120)] as const } : s));
    const started = performance.now();
    const route = await planRoute(problemOf(stops, { defaultServiceSeconds: 120 }), provider);
    const elapsed = performance.now() - started;
    t.diagnostic(`99 stops planned in ${elapsed.toFixed(0)} ms; ${route.lateStopIds.length} late`);
    assert.equal(route.stops.length, 99);
    assert.ok(route.totalDistanceMetres < route.inputOrderDistanceMetres);
    assert.ok(elapsed < 10_000, `${elapsed} ms`);
  });
});
