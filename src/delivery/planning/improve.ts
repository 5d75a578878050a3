import { costOf, evaluate, LATENESS_PENALTY_METRES_PER_SECOND, type Evaluation, type Instance } from './schedule.ts';

// Construction and improvement of a stop order (see optimise.ts for the whole
// heuristic). Orders hold stop locations 1…n; the depot (0) is implied at both
// ends, and a tour is the order with the depot at positions 0 and n+1.
// Everything here is deterministic: candidates are scanned in a fixed order and
// ties keep the earlier one.

/** Upper bound on improvement passes; each pass scans every move once. Reached only on pathological input. */
const MAX_PASSES = 200;
/** Largest run of consecutive stops Or-opt moves. */
const OR_OPT_MAX_SEGMENT = 3;
/** Moves are tried only where they create an edge to one of a location's this many nearest neighbours; up to this many stops, that is every move. */
const NEIGHBOURS = 16;

const locations = (instance: Instance) => Array.from({ length: instance.size }, (_, i) => i + 1);

/**
 * Nearest neighbour in time, aware of windows: from where the vehicle is, go to
 * the stop whose service could start soonest (arrival, or the window's opening
 * if that is later), preferring stops that would not be late. Without windows
 * this is the nearest stop by driving time.
 */
export function nearestByServiceStart(instance: Instance): number[] {
  const width = instance.size + 1;
  const left = new Set(locations(instance));
  const order: number[] = [];
  let at = 0;
  let time = 0;
  while (left.size > 0) {
    let best = -1;
    let bestKey: readonly number[] = [];
    for (const stop of left) {
      const start = Math.max(time + (instance.duration[at * width + stop] ?? 0), instance.opensAt[stop] ?? -Infinity);
      const lateness = Math.max(0, start - (instance.closesAt[stop] ?? Infinity));
      const key = [lateness > 0 ? 1 : 0, lateness, start, instance.distance[at * width + stop] ?? 0];
      if (best === -1 || lexicographicallyLess(key, bestKey)) {
        best = stop;
        bestKey = key;
      }
    }
    const start = Math.max(time + (instance.duration[at * width + best] ?? 0), instance.opensAt[best] ?? -Infinity);
    time = start + (instance.serviceSeconds[best] ?? 0);
    order.push(best);
    left.delete(best);
    at = best;
  }
  return order;
}

/** Nearest neighbour by distance, ignoring windows. */
export function nearestByDistance(instance: Instance): number[] {
  const width = instance.size + 1;
  const left = new Set(locations(instance));
  const order: number[] = [];
  let at = 0;
  while (left.size > 0) {
    let best = -1;
    for (const stop of left) {
      if (best === -1 || (instance.distance[at * width + stop] ?? 0) < (instance.distance[at * width + best] ?? 0)) best = stop;
    }
    order.push(best);
    left.delete(best);
    at = best;
  }
  return order;
}

/** Earliest window end first (stops without a window last), ties by opening, then input order. */
export function byDeadline(instance: Instance): number[] {
  return locations(instance).sort(
    (a, b) => (instance.closesAt[a] ?? Infinity) - (instance.closesAt[b] ?? Infinity) || (instance.opensAt[a] ?? -Infinity) - (instance.opensAt[b] ?? -Infinity) || a - b,
  );
}

function lexicographicallyLess(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x < y;
  }
  return false;
}

/**
 * Local search to a local optimum of cost = distance + penalty × lateness,
 * alternating 2-opt (reverse a run of stops) and Or-opt (move a run of 1–3
 * stops elsewhere, either way round), accepting any strictly improving move.
 * Only moves creating an edge to one of a stop's NEIGHBOURS nearest are tried.
 * A move's change of distance takes O(1) from prefix sums (asymmetric matrices
 * included). With windows, a move that could lower the cost is scheduled from
 * the first position it changes, and abandoned as soon as its distance so far,
 * plus the untouched remainder, plus its lateness so far reaches the current
 * cost (lateness only accumulates).
 */
export function improve(instance: Instance, initial: readonly number[]): { order: number[]; evaluation: Evaluation } {
  const n = initial.length;
  const width = instance.size + 1;
  const { distance, duration, opensAt, closesAt, serviceSeconds } = instance;
  const d = (from: number, to: number) => distance[from * width + to] ?? 0;
  const last = n + 1;
  let tour = Int32Array.from([0, ...initial, 0]);
  // Per tour position: distance from the start (forward, and with every edge driven backward),
  // departure time (arrival for the final depot) and lateness accumulated so far.
  const forward = new Float64Array(n + 2);
  const backward = new Float64Array(n + 2);
  const depart = new Float64Array(n + 2);
  const lateBy = new Float64Array(n + 2);
  const positionOf = new Int32Array(width);
  const near = nearestNeighbours(instance, NEIGHBOURS);
  let cost = 0;
  let lateness = 0;

  const recompute = () => {
    let time = 0;
    let late = 0;
    for (let m = 1; m <= last; m++) {
      const from = tour[m - 1] ?? 0;
      const at = tour[m] ?? 0;
      forward[m] = (forward[m - 1] ?? 0) + d(from, at);
      backward[m] = (backward[m - 1] ?? 0) + d(at, from);
      const start = Math.max(time + (duration[from * width + at] ?? 0), opensAt[at] ?? -Infinity);
      late += m === last ? 0 : Math.max(0, start - (closesAt[at] ?? Infinity));
      time = m === last ? start : start + (serviceSeconds[at] ?? 0);
      depart[m] = time;
      lateBy[m] = late;
      if (m !== last) positionOf[at] = m;
    }
    lateness = late;
    cost = costOf(forward[last] ?? 0, late);
  };

  /** Cost of the tour whose positions lo…hi hold nodeAt(m) and are otherwise unchanged; Infinity once it cannot beat `cutoff`. */
  const scheduleFrom = (lo: number, hi: number, nodeAt: (m: number) => number, cutoff: number): number => {
    let time = depart[lo - 1] ?? 0;
    let late = lateBy[lo - 1] ?? 0;
    let dist = forward[lo - 1] ?? 0;
    let previous = tour[lo - 1] ?? 0;
    const untouched = (forward[last] ?? 0) - (forward[hi + 1] ?? 0);
    for (let m = lo; m <= last; m++) {
      const at = m <= hi ? nodeAt(m) : (tour[m] ?? 0);
      dist += d(previous, at);
      if (m === last) return costOf(dist, late);
      const start = Math.max(time + (duration[previous * width + at] ?? 0), opensAt[at] ?? -Infinity);
      late += Math.max(0, start - (closesAt[at] ?? Infinity));
      time = start + (serviceSeconds[at] ?? 0);
      if (m > hi) {
        const remaining = (forward[last] ?? 0) - (forward[m] ?? 0);
        // Past the change the stops are the old ones, and leaving later never makes them less late.
        const oldRest = (lateBy[n] ?? 0) - (lateBy[m] ?? 0);
        if (time === depart[m] || (time < (depart[m] ?? 0) && oldRest === 0)) return costOf(dist + remaining, late + oldRest);
        if (dist + remaining + LATENESS_PENALTY_METRES_PER_SECOND * (late + (time > (depart[m] ?? 0) ? oldRest : 0)) >= cutoff) return Infinity;
      } else if (dist + untouched + LATENESS_PENALTY_METRES_PER_SECOND * late >= cutoff) {
        return Infinity;
      }
      previous = at;
    }
    return Infinity;
  };

  let improvements = 0;
  const consider = (distanceDelta: number, lo: number, hi: number, nodeAt: (m: number) => number): void => {
    const epsilon = 1e-9 * Math.max(1, cost);
    if (!(distanceDelta < -epsilon) && (!instance.hasWindows || lateness === 0)) return;
    if (instance.hasWindows && !(scheduleFrom(lo, hi, nodeAt, cost - epsilon) < cost - epsilon)) return;
    const next = Int32Array.from(tour);
    for (let m = lo; m <= hi; m++) next[m] = nodeAt(m);
    tour = next;
    recompute();
    improvements += 1;
  };

  recompute();
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const before = improvements;
    // 2-opt: reverse tour positions p…q, creating the edges t[p-1]→t[q] and t[p]→t[q+1].
    for (let p = 1; p < n; p++) {
      const t = tour;
      const ends = candidates(near[t[p - 1] ?? 0], near[t[p] ?? 0], (v) => positionOf[v] ?? 0, (w) => (w === 0 ? n : (positionOf[w] ?? 0) - 1));
      for (const q of ends) {
        if (q <= p || q > n) continue;
        const u = tour;
        const delta =
          d(u[p - 1] ?? 0, u[q] ?? 0) + ((backward[q] ?? 0) - (backward[p] ?? 0)) + d(u[p] ?? 0, u[q + 1] ?? 0) -
          (d(u[p - 1] ?? 0, u[p] ?? 0) + ((forward[q] ?? 0) - (forward[p] ?? 0)) + d(u[q] ?? 0, u[q + 1] ?? 0));
        consider(delta, p, q, (m) => u[p + q - m] ?? 0);
      }
    }
    // Or-opt: move tour positions p…p+len-1 to just after position k, next to a neighbour of its first or last stop.
    for (let len = 1; len <= OR_OPT_MAX_SEGMENT; len++) {
      for (let p = 1; p + len - 1 <= n; p++) {
        const ks = candidates(near[tour[p] ?? 0], near[tour[p + len - 1] ?? 0], (v) => positionOf[v] ?? 0, (w) => (w === 0 ? n : (positionOf[w] ?? 0) - 1));
        for (const k of ks) {
          if (k >= p - 1 && k <= p + len - 1) continue;
          for (const reversed of len === 1 ? [false] : [false, true]) {
            const t = tour;
            const first = t[p] ?? 0;
            const end = t[p + len - 1] ?? 0;
            const removal = d(t[p - 1] ?? 0, t[p + len] ?? 0) - d(t[p - 1] ?? 0, first) - d(end, t[p + len] ?? 0);
            const a = t[k] ?? 0;
            const b = t[k + 1] ?? 0;
            const inner = (backward[p + len - 1] ?? 0) - (backward[p] ?? 0) - ((forward[p + len - 1] ?? 0) - (forward[p] ?? 0));
            const insertion = reversed ? d(a, end) + d(first, b) - d(a, b) + inner : d(a, first) + d(end, b) - d(a, b);
            const segment = (i: number) => t[reversed ? p + len - 1 - i : p + i] ?? 0;
            if (k < p) {
              // Backward: the segment lands at k+1…k+len; what stood at k+1…p-1 shifts right by len.
              consider(removal + insertion, k + 1, p + len - 1, (m) => (m <= k + len ? segment(m - k - 1) : (t[m - len] ?? 0)));
            } else {
              // Forward: what stood at p+len…k shifts left by len; the segment lands at k-len+1…k.
              consider(removal + insertion, p, k, (m) => (m <= k - len ? (t[m + len] ?? 0) : segment(m - (k - len + 1))));
            }
          }
        }
      }
    }
    if (improvements === before) break;
  }
  const order = Array.from(tour.subarray(1, last));
  return { order, evaluation: evaluate(instance, order) };
}

/** Each location's `count` nearest other locations (distance both ways), nearest first, ties by index. */
function nearestNeighbours(instance: Instance, count: number): Int32Array[] {
  const width = instance.size + 1;
  const around = (from: number, to: number) => (instance.distance[from * width + to] ?? 0) + (instance.distance[to * width + from] ?? 0);
  return Array.from({ length: width }, (_, from) =>
    Int32Array.from(
      Array.from({ length: width }, (_, to) => to)
        .filter((to) => to !== from)
        .sort((a, b) => around(from, a) - around(from, b) || a - b)
        .slice(0, count),
    ),
  );
}

/** Sorted, distinct positions: after each neighbour of the first list, before each neighbour of the second. */
function candidates(after: Int32Array | undefined, before: Int32Array | undefined, positionAfter: (v: number) => number, positionBefore: (w: number) => number): number[] {
  const out = new Set<number>();
  for (const v of after ?? []) out.add(positionAfter(v));
  for (const w of before ?? []) out.add(positionBefore(w));
  return [...out].sort((a, b) => a - b);
}
