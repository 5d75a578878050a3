import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { greatCircleMatrixProvider, RoutingError, type MatrixProvider } from '../planning/index.ts';
import { planStops, type PlanStop } from './plan.ts';

const DEPOT = { lat: 52.52, lon: 13.405 };
const stop = (id: string, lonOffset: number, window = { start: '2026-07-01T08:00:00Z', end: '2026-07-01T18:00:00Z' }): PlanStop => ({ shipmentId: id, trackingNumber: `RP-${id}`, point: { lat: DEPOT.lat, lon: DEPOT.lon + lonOffset }, window });
const greatCircle = greatCircleMatrixProvider({ averageSpeedKmh: 36 });
const failing: MatrixProvider = { name: 'osrm', maxLocations: 100, matrix: () => Promise.reject(new RoutingError('timeout', 'no answer')) };
const request = (stops: PlanStop[]) => ({ depot: DEPOT, stops, notBefore: new Date('2026-07-01T06:00:00Z'), serviceSeconds: 300 });

describe('planStops', () => {
  test('keep: visits the stops in the order given; optimise: reorders them', async () => {
    const stops = [stop('far', 0.08), stop('near', 0.02), stop('mid', 0.05)];
    const kept = await planStops(request(stops), { configured: greatCircle, greatCircle }, 'keep', false);
    assert.deepEqual(kept.plan.stops.map((s) => s.shipmentId), ['far', 'near', 'mid']);
    const optimised = await planStops(request(stops), { configured: greatCircle, greatCircle }, 'optimise', false);
    assert.ok(optimised.plan.totalDistanceMetres < kept.plan.totalDistanceMetres);
  });

  test('leaves just in time for the earliest window, never before the planning time', async () => {
    const late = await planStops(request([stop('a', 0.05, { start: '2026-07-01T10:00:00Z', end: '2026-07-01T12:00:00Z' })]), { configured: greatCircle, greatCircle }, 'keep', false);
    const stopEta = late.plan.stops[0]?.serviceStartAt ?? '';
    assert.equal(stopEta, '2026-07-01T10:00:00.000Z', 'service starts as the window opens');
    assert.ok(Math.abs(Date.parse(late.plan.stops[0]?.eta ?? '') - Date.parse(stopEta)) < 1000, 'with no waiting to speak of');
    assert.ok(Date.parse(late.plan.startAt) < Date.parse(stopEta));
    const early = await planStops(request([stop('a', 0.05, { start: '2026-07-01T01:00:00Z', end: '2026-07-01T12:00:00Z' })]), { configured: greatCircle, greatCircle }, 'keep', false);
    assert.equal(early.plan.startAt, '2026-07-01T06:00:00.000Z');
  });

  test('a routing failure is a 502 naming the reason, unless the caller asked for the great-circle fallback', async () => {
    await assert.rejects(planStops(request([stop('a', 0.05)]), { configured: failing, greatCircle }, 'optimise', false), (error: unknown) => {
      assert.ok(error instanceof Error && 'code' in error && error.code === 'planning.routing_failed');
      assert.match((error as { publicDetail?: string }).publicDetail ?? '', /timeout/);
      return true;
    });
    const fallback = await planStops(request([stop('a', 0.05)]), { configured: failing, greatCircle }, 'optimise', true);
    assert.equal(fallback.plan.provider, 'great-circle');
    assert.equal(fallback.fallbackReason, 'timeout');
  });
});
