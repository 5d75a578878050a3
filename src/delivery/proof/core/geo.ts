import type { GeoPoint } from '../../../kernel/geo.ts';

// The proof's GPS fix and the shipment's destination; their distance is
// kernel/geo.ts's distanceMetres.

export type LatLon = GeoPoint;

/** Distances are recorded to the decimetre: finer is noise next to GPS accuracy, and a recorded value must compare exactly. */
export function roundDistance(meters: number): number {
  return Math.round(meters * 10) / 10;
}
