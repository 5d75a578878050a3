import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import type { Polygon } from 'geojson';
import { invalid } from '../checks.ts';

// A depot's service area: a GeoJSON Polygon (RFC 7946, `[lon, lat]`
// positions, outer ring then holes, each ring closed). Containment is
// @turf's planar test; a point on the boundary counts as inside.

export const MAX_RING_POSITIONS = 1000;
export const MAX_RINGS = 20;

export interface ServiceArea {
  readonly type: 'Polygon';
  readonly coordinates: number[][][];
}

export function checkServiceArea(area: ServiceArea): void {
  // Also called with parsed files (the CLI), so the type is checked at run time.
  if ((area as { type: unknown }).type !== 'Polygon' || !Array.isArray(area.coordinates) || area.coordinates.length === 0 || area.coordinates.length > MAX_RINGS) {
    throw invalid(`The service area is a GeoJSON Polygon with 1–${MAX_RINGS} rings.`);
  }
  for (const ring of area.coordinates) {
    if (ring.length < 4 || ring.length > MAX_RING_POSITIONS) throw invalid(`Each ring of the service area has 4–${MAX_RING_POSITIONS} positions.`);
    for (const position of ring) {
      const [lon, lat] = position;
      if (position.length !== 2 || lon === undefined || lat === undefined || !Number.isFinite(lon) || !Number.isFinite(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90) {
        throw invalid('Service area positions are [longitude, latitude] with longitude from -180 to 180 and latitude from -90 to 90.');
      }
    }
    const first = ring[0];
    const last = ring.at(-1);
    if (first?.[0] !== last?.[0] || first?.[1] !== last?.[1]) throw invalid('Each ring of the service area is closed: its last position repeats the first.');
    if (new Set(ring.slice(0, -1).map((p) => `${p[0]},${p[1]}`)).size < 3) throw invalid('Each ring of the service area has at least three distinct positions.');
  }
}

export function insideServiceArea(area: ServiceArea, lat: number, lon: number): boolean {
  return booleanPointInPolygon([lon, lat], area as Polygon);
}
