import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { rectangle } from '../../../test/support/planning.ts';
import { crossesAntimeridian, distanceMetres, pointInPolygon, segmentIntersectsPolygon, type PolygonCoordinates } from './geo.ts';
import { polygonProblems } from './zones.ts';

const EARTH_RADIUS_M = 6_371_008.8;

// 10 km-ish square near Berlin with a square hole in the middle.
const WITH_HOLE: PolygonCoordinates = [rectangle(13.3, 52.4, 13.5, 52.6), rectangle(13.35, 52.45, 13.45, 52.55)];
const point = (lon: number, lat: number) => ({ lon, lat });

describe('great-circle distance', () => {
  test('one degree along a meridian is R·π/180', () => {
    assert.ok(Math.abs(distanceMetres(point(0, 0), point(0, 1)) - (EARTH_RADIUS_M * Math.PI) / 180) < 0.01);
    assert.ok(Math.abs(distanceMetres(point(10, 60), point(10, 61)) - (EARTH_RADIUS_M * Math.PI) / 180) < 0.01);
  });

  test('one degree of longitude shrinks with the cosine of the latitude (within a metre at this size)', () => {
    const atSixty = distanceMetres(point(0, 60), point(1, 60));
    assert.ok(Math.abs(atSixty - ((EARTH_RADIUS_M * Math.PI) / 180) * Math.cos(Math.PI / 3)) < 1, String(atSixty));
  });

  test('is zero to itself, symmetric and obeys the triangle inequality', () => {
    const p = fc.record({ lat: fc.double({ min: -89, max: 89, noNaN: true }), lon: fc.double({ min: -179, max: 179, noNaN: true }) });
    fc.assert(
      fc.property(p, p, p, (a, b, c) => {
        assert.equal(distanceMetres(a, a), 0);
        assert.ok(Math.abs(distanceMetres(a, b) - distanceMetres(b, a)) < 1e-6);
        assert.ok(distanceMetres(a, c) <= distanceMetres(a, b) + distanceMetres(b, c) + 1e-6);
      }),
      { numRuns: 500 },
    );
  });
});

describe('point in polygon', () => {
  test('inside the ring is inside; inside the hole and beyond the ring are outside', () => {
    assert.equal(pointInPolygon(point(13.32, 52.42), WITH_HOLE), true);
    assert.equal(pointInPolygon(point(13.4, 52.5), WITH_HOLE), false, 'in the hole');
    assert.equal(pointInPolygon(point(13.6, 52.5), WITH_HOLE), false);
  });

  test('a point on the outer ring or on a hole\'s edge counts as inside (touching a zone is entering it)', () => {
    assert.equal(pointInPolygon(point(13.3, 52.5), WITH_HOLE), true);
    assert.equal(pointInPolygon(point(13.35, 52.5), WITH_HOLE), true);
  });

  test('agrees with plain arithmetic for rectangles with a rectangular hole', () => {
    const inRect = (lon: number, lat: number, [w, s, e, n]: readonly number[]) => lon > w! && lon < e! && lat > s! && lat < n!;
    const outer = [13.3, 52.4, 13.5, 52.6];
    const hole = [13.35, 52.45, 13.45, 52.55];
    // Points on a grid that never lands on an edge.
    const coordinate = (min: number) => fc.integer({ min: 0, max: 399 }).map((k) => min + 0.0005 * k + 0.00025);
    fc.assert(
      fc.property(coordinate(13.25), coordinate(52.35), (lon, lat) => {
        assert.equal(pointInPolygon(point(lon, lat), WITH_HOLE), inRect(lon, lat, outer) && !inRect(lon, lat, hole));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('segment against polygon', () => {
  test('a segment crossing the zone whose ends are both outside it, far from every vertex, intersects', () => {
    // West to east through the southern band of the ring, below the hole.
    assert.equal(segmentIntersectsPolygon(point(13.0, 52.42), point(13.8, 52.43), WITH_HOLE), true);
  });

  test('a segment passing the zone by does not intersect', () => {
    assert.equal(segmentIntersectsPolygon(point(13.0, 52.3), point(13.8, 52.35), WITH_HOLE), false);
  });

  test('a segment wholly inside the hole does not intersect; one leaving the hole does', () => {
    assert.equal(segmentIntersectsPolygon(point(13.38, 52.48), point(13.42, 52.52), WITH_HOLE), false);
    assert.equal(segmentIntersectsPolygon(point(13.4, 52.5), point(13.4, 52.58), WITH_HOLE), true);
    assert.equal(segmentIntersectsPolygon(point(13.4, 52.5), point(13.4, 52.7), WITH_HOLE), true, 'crosses the ring and leaves the zone');
  });

  test('a segment with an end inside intersects, and so do ones touching a corner or running along an edge', () => {
    assert.equal(segmentIntersectsPolygon(point(13.31, 52.41), point(13.0, 52.0), WITH_HOLE), true);
    // Binary fractions, so the touch is exact in floating point.
    const square: PolygonCoordinates = [rectangle(13.25, 52.5, 13.5, 52.75)];
    assert.equal(segmentIntersectsPolygon(point(13, 52.25), point(13.5, 52.75), square), true, 'through the corner (13.25, 52.5)');
    assert.equal(segmentIntersectsPolygon(point(13, 52.5), point(13.75, 52.5), square), true, 'along the southern edge');
    assert.equal(segmentIntersectsPolygon(point(13, 52.25), point(13.75, 52.25), square), false);
  });

  test('treats lon/lat as plane coordinates: a segment is the straight line on the map', () => {
    // A thin zone between two points on the same parallel: the great-circle arc would bulge north of it, the map line does not.
    const thin: PolygonCoordinates = [rectangle(9.9, 59.999, 10.1, 60.001)];
    assert.equal(segmentIntersectsPolygon(point(9, 60), point(11, 60), thin), true);
  });

  test('antimeridian crossings are out of scope and detected so callers can refuse them', () => {
    assert.equal(crossesAntimeridian(point(179.5, -17), point(-179.5, -17)), true);
    assert.equal(crossesAntimeridian(point(13, 52), point(14, 52)), false);
  });
});

describe('no-fly polygon checks', () => {
  test('accepts closed rings of at least four positions, holes included', () => {
    assert.deepEqual(polygonProblems(WITH_HOLE), []);
  });

  test('names every broken rule', () => {
    assert.deepEqual(polygonProblems([]), ['must be a list of rings (the outer ring, then any holes)']);
    assert.deepEqual(polygonProblems([[[0, 0], [1, 0], [0, 0]]]), ['outer ring: needs at least 4 positions (a triangle plus the closing repeat of the first), has 3']);
    assert.deepEqual(polygonProblems([[[0, 0], [1, 0], [1, 1], [0, 1]]]), ['outer ring: is not closed; its last position must repeat its first']);
    assert.deepEqual(polygonProblems([rectangle(0, 0, 1, 1), [[181, 0], [1, 0], [1, 95], [181, 0]]]), [
      'hole 1, position 0: longitude must be in [-180, 180]',
      'hole 1, position 2: latitude must be in [-90, 90]',
      'hole 1, position 3: longitude must be in [-180, 180]',
    ]);
    assert.deepEqual(polygonProblems([[[0, 0, 5], [1, 0], [1, 1], [0, 0, 5]]]), ['outer ring, position 0: must be [lon, lat]', 'outer ring, position 3: must be [lon, lat]']);
  });
});
