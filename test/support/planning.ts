import { createHash } from 'node:crypto';
import type { GeoPoint, Position } from '../../src/delivery/planning/geo.ts';
import type { TravelMatrix } from '../../src/delivery/planning/matrix.ts';
import type { RouteStop } from '../../src/delivery/planning/validate.ts';

// Factories for the planning tests: reproducible pseudo-random instances
// (SHA-256 of a seed and a counter, so the same seed always builds the same
// instance) and an independent brute-force optimum.

export const DEPOT: GeoPoint = { lat: 52.52, lon: 13.405 };
export const START = '2026-03-02T08:00:00.000Z';
export const START_MS = Date.parse(START);

/** A closed axis-aligned rectangle ring, counter-clockwise. */
export function rectangle(west: number, south: number, east: number, north: number): Position[] {
  return [
    [west, south],
    [east, south],
    [east, north],
    [west, north],
    [west, south],
  ];
}

/** Uniform numbers in [0, 1) from a seed; deterministic, no Math.random. */
export function seededRandom(seed: string): () => number {
  let counter = 0;
  return () => createHash('sha256').update(`${seed}:${counter++}`).digest().readUInt32BE(0) / 2 ** 32;
}

/** `count` stops scattered within `radiusKm` of `centre`, ids `s1`…. */
export function scatteredStops(seed: string, count: number, radiusKm = 10, centre: GeoPoint = DEPOT): RouteStop[] {
  const random = seededRandom(seed);
  const kmPerDegreeLat = 111.2;
  const kmPerDegreeLon = 111.2 * Math.cos((centre.lat * Math.PI) / 180);
  return Array.from({ length: count }, (_, i) => ({
    id: `s${i + 1}`,
    point: { lat: centre.lat + ((random() * 2 - 1) * radiusKm) / kmPerDegreeLat, lon: centre.lon + ((random() * 2 - 1) * radiusKm) / kmPerDegreeLon },
  }));
}

/** A point `km` east and `northKm` north of `from` (flat-earth approximation, fine for tens of km). */
export function offset(from: GeoPoint, eastKm: number, northKm: number): GeoPoint {
  return { lat: from.lat + northKm / 111.2, lon: from.lon + eastKm / (111.2 * Math.cos((from.lat * Math.PI) / 180)) };
}

const cell = (matrix: TravelMatrix, from: number, to: number): number => matrix.distancesMetres[from]?.[to] ?? Number.NaN;

/** Shortest closed tour 0 → every stop → 0 over the distance matrix, trying every order (Heap's algorithm). */
export function bruteForceShortest(matrix: TravelMatrix): number {
  const order = Array.from({ length: matrix.distancesMetres.length - 1 }, (_, i) => i + 1);
  const length = () => {
    let total = 0;
    let at = 0;
    for (const stop of order) {
      total += cell(matrix, at, stop);
      at = stop;
    }
    return total + cell(matrix, at, 0);
  };
  let best = length();
  const c = new Array<number>(order.length).fill(0);
  let i = 0;
  while (i < order.length) {
    const ci = c[i] ?? 0;
    if (ci < i) {
      const j = i % 2 === 0 ? 0 : ci;
      const swap = order[j] ?? 0;
      order[j] = order[i] ?? 0;
      order[i] = swap;
      best = Math.min(best, length());
      c[i] = ci + 1;
      i = 0;
    } else {
      c[i] = 0;
      i += 1;
    }
  }
  return best;
}

/** Distance of visiting `ids` in that order from and back to the depot (location 0; stop i+1 is `stops[i]`). */
export function tourDistance(matrix: TravelMatrix, stops: readonly RouteStop[], ids: readonly string[]): number {
  const path = [0, ...ids.map((id) => stops.findIndex((s) => s.id === id) + 1), 0];
  let total = 0;
  for (let k = 0; k + 1 < path.length; k++) total += cell(matrix, path[k] ?? 0, path[k + 1] ?? 0);
  return total;
}
