import { distance } from '@turf/distance';

// The one great-circle distance in Rampart: proof-of-delivery radius checks,
// route planning and the simulated fleet all measure with it, on the sphere
// @turf/distance uses. Points are WGS 84 `{lat, lon}`.

export interface GeoPoint {
  readonly lat: number;
  readonly lon: number;
}

/** Mean Earth radius (IUGG), metres: the radius @turf/distance measures with, for code that walks a distance along the same sphere. */
export const EARTH_RADIUS_M = 6_371_008.8;

/** Great-circle (haversine) distance in metres; within 0.5 % of the ellipsoidal distance. */
export function distanceMetres(from: GeoPoint, to: GeoPoint): number {
  return distance([from.lon, from.lat], [to.lon, to.lat], { units: 'meters' });
}
