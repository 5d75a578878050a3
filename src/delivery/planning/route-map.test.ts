import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEPOT, offset, START, START_MS } from '../../../test/support/planning.ts';
import { greatCircleMatrixProvider } from './matrix.ts';
import { planRoute } from './optimise.ts';
import { routeFeatureCollection } from './route-map.ts';

describe('route map payload', () => {
  test('is a GeoJSON FeatureCollection: depot, stops in visiting order, then the path depot → stops → depot in [lon, lat]', async () => {
    const window = [START_MS, START_MS + 3_600_000] as const;
    const stops = [
      { id: 'far', point: offset(DEPOT, 4, 0), shipmentId: 'shp_far', trackingNumber: 'RMP-FAR', window },
      { id: 'near', point: offset(DEPOT, 1, 0), shipmentId: 'shp_near' },
    ];
    const route = await planRoute({ depot: DEPOT, stops, startAt: START }, greatCircleMatrixProvider({ averageSpeedKmh: 30 }));
    const map = routeFeatureCollection(route);
    assert.equal(map.type, 'FeatureCollection');
    assert.equal(map.features.length, 4);
    const [depot, first, second, path] = map.features;
    assert.deepEqual(depot, { type: 'Feature', geometry: { type: 'Point', coordinates: [DEPOT.lon, DEPOT.lat] }, properties: { kind: 'depot', departureAt: route.startAt, returnAt: route.returnAt } });
    assert.deepEqual(
      [first, second].map((f) => f?.properties),
      route.stops.map((s) => ({
        kind: 'stop',
        sequence: s.sequence,
        stopId: s.id,
        ...(s.shipmentId === undefined ? {} : { shipmentId: s.shipmentId }),
        ...(s.trackingNumber === undefined ? {} : { trackingNumber: s.trackingNumber }),
        ...(s.window === undefined ? {} : { window: s.window }),
        eta: s.eta,
        departureAt: s.departureAt,
        latenessSeconds: 0,
      })),
    );
    assert.deepEqual(first?.geometry.coordinates, [route.stops[0]!.point.lon, route.stops[0]!.point.lat]);
    const withTracking = [first, second].find((f) => f?.properties.kind === 'stop' && f.properties.stopId === 'far');
    assert.deepEqual(withTracking?.properties.kind === 'stop' && [withTracking.properties.trackingNumber, withTracking.properties.window], ['RMP-FAR', { start: new Date(START_MS).toISOString(), end: new Date(START_MS + 3_600_000).toISOString() }]);
    assert.ok(path !== undefined);
    assert.equal(path.geometry.type, 'LineString');
    assert.deepEqual(path.geometry.coordinates, [[DEPOT.lon, DEPOT.lat], ...route.stops.map((s) => [s.point.lon, s.point.lat]), [DEPOT.lon, DEPOT.lat]]);
    assert.deepEqual(path.properties, { kind: 'path', provider: 'great-circle', distanceMetres: route.totalDistanceMetres, durationSeconds: route.totalDurationSeconds });
    // Plain JSON: survives serialisation unchanged.
    assert.deepEqual(JSON.parse(JSON.stringify(map)), map);
  });
});
