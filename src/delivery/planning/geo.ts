import { booleanIntersects } from '@turf/boolean-intersects';
import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import type { LineString, Polygon, Position as GeoJsonPosition } from 'geojson';
import type { GeoPoint } from '../../kernel/geo.ts';

// Geometry for planning. Points are WGS 84 `{lat, lon}` as everywhere in
// Rampart; GeoJSON positions are `[lon, lat]` (RFC 7946).
//
// Distances are kernel/geo.ts's great-circle distanceMetres (re-exported here).
// Polygon tests treat longitude and latitude as plane coordinates, so a leg is
// the straight line on a lon/lat map, not the great-circle arc; for a 30 km leg
// at mid latitudes the two differ by a few tens of metres, so draw zones with a
// margin. Shapes or legs crossing the antimeridian (±180°) are out of scope:
// they are taken the long way round.

export type { GeoPoint } from '../../kernel/geo.ts';
export { distanceMetres } from '../../kernel/geo.ts';

/** `[lon, lat]`, the GeoJSON order. */
export type Position = readonly [lon: number, lat: number];

/** A GeoJSON Polygon's coordinates: the outer ring, then any holes; each ring closed (first position repeated last). */
export type PolygonCoordinates = readonly (readonly Position[])[];

export const toPosition = (point: GeoPoint): Position => [point.lon, point.lat];

// The library's types are mutable; these copies keep ours read-only.
const vertex = (point: GeoPoint): GeoJsonPosition => [point.lon, point.lat];

function asPolygon(coordinates: PolygonCoordinates): Polygon {
  return { type: 'Polygon', coordinates: coordinates.map((ring) => ring.map(([lon, lat]) => [lon, lat])) };
}

/**
 * True when the point lies inside the polygon or on its boundary (a boundary
 * counts as inside: for a no-fly zone, touching it is entering it). A point in
 * a hole is outside.
 */
export function pointInPolygon(point: GeoPoint, polygon: PolygonCoordinates): boolean {
  return booleanPointInPolygon(vertex(point), asPolygon(polygon));
}

/**
 * True when the straight segment from `from` to `to` has any point inside the
 * polygon or on its boundary: an endpoint inside, or the segment crossing or
 * touching any ring (outer or hole). A segment lying wholly inside a hole does
 * not intersect.
 */
export function segmentIntersectsPolygon(from: GeoPoint, to: GeoPoint, polygon: PolygonCoordinates): boolean {
  const line: LineString = { type: 'LineString', coordinates: [vertex(from), vertex(to)] };
  return booleanIntersects(line, asPolygon(polygon));
}

/** Whether the shorter way between two longitudes crosses ±180°, which the polygon tests above do not support. */
export function crossesAntimeridian(from: GeoPoint, to: GeoPoint): boolean {
  return Math.abs(to.lon - from.lon) > 180;
}

/** A point's problems (finite, latitude in [-90, 90], longitude in [-180, 180]), each naming `at`. */
export function pointProblems(point: GeoPoint, at: string): string[] {
  const problems: string[] = [];
  if (!Number.isFinite(point.lat) || point.lat < -90 || point.lat > 90) problems.push(`${at}.lat: must be a latitude in [-90, 90]`);
  if (!Number.isFinite(point.lon) || point.lon < -180 || point.lon > 180) problems.push(`${at}.lon: must be a longitude in [-180, 180]`);
  return problems;
}
