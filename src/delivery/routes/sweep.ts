import type { GeoPoint } from '../planning/index.ts';

// How `POST /api/v1/routes/plan` shares a depot's shipments among its drivers:
// a sweep. Every shipment gets its compass bearing from the depot; the sweep
// starts just after the widest empty sector (so no group straddles a gap) and
// cuts the circle into `groups` consecutive sectors holding as equal a number
// of shipments as possible (sizes differ by at most one). Each sector then
// becomes one driver's route and is optimised on its own. Balanced by count,
// not by weight or driving time: simple, predictable and easy to correct by
// moving stops afterwards.

export interface SweepItem {
  readonly id: string;
  readonly point: GeoPoint;
}

/** Degrees clockwise from north, [0, 360). */
export function bearingDegrees(from: GeoPoint, to: GeoPoint): number {
  const rad = Math.PI / 180;
  const dLon = (to.lon - from.lon) * rad;
  const y = Math.sin(dLon) * Math.cos(to.lat * rad);
  const x = Math.cos(from.lat * rad) * Math.sin(to.lat * rad) - Math.sin(from.lat * rad) * Math.cos(to.lat * rad) * Math.cos(dLon);
  return ((Math.atan2(y, x) / rad) % 360 + 360) % 360;
}

/** Splits `items` into `groups` sectors (fewer when there are fewer items); every item lands in exactly one group. */
export function sweepGroups<T extends SweepItem>(depot: GeoPoint, items: readonly T[], groups: number): T[][] {
  if (!Number.isInteger(groups) || groups < 1) throw new RangeError('groups must be a positive integer');
  if (items.length === 0) return [];
  const sorted = items.map((item) => ({ item, bearing: bearingDegrees(depot, item.point) })).sort((a, b) => a.bearing - b.bearing || (a.item.id < b.item.id ? -1 : a.item.id > b.item.id ? 1 : 0));
  // Start after the widest gap between neighbouring bearings (wrapping round).
  let start = 0;
  let widest = -1;
  sorted.forEach((entry, i) => {
    const previous = i === 0 ? (sorted.at(-1)?.bearing ?? 0) - 360 : (sorted[i - 1]?.bearing ?? 0);
    const gap = entry.bearing - previous;
    if (gap > widest) {
      widest = gap;
      start = i;
    }
  });
  const ordered = [...sorted.slice(start), ...sorted.slice(0, start)].map((e) => e.item);
  const count = Math.min(groups, ordered.length);
  const base = Math.floor(ordered.length / count);
  const extra = ordered.length % count;
  const out: T[][] = [];
  let at = 0;
  for (let g = 0; g < count; g++) {
    const size = base + (g < extra ? 1 : 0);
    out.push(ordered.slice(at, at + size));
    at += size;
  }
  return out;
}
