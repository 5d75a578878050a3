import type { TravelMatrix } from './matrix.ts';

// The numeric core shared by the optimiser's moves: a route instance in flat
// arrays and the evaluation of one stop order against it. Location 0 is the
// depot; stops are 1…n. Times are seconds after the route's start.

/** Each second of lateness costs as much as this many metres: being late outweighs any detour. */
export const LATENESS_PENALTY_METRES_PER_SECOND = 1000;

export interface Instance {
  /** Number of stops (locations are 0…size). */
  readonly size: number;
  /** `(size+1)²`, row-major: `[from * (size+1) + to]`. */
  readonly distance: Float64Array;
  readonly duration: Float64Array;
  /** Earliest service start per location; -Infinity without a window. */
  readonly opensAt: Float64Array;
  /** Latest service start per location; +Infinity without a window. */
  readonly closesAt: Float64Array;
  readonly serviceSeconds: Float64Array;
  readonly hasWindows: boolean;
}

export interface StopWindowSeconds {
  readonly opensAt: number;
  readonly closesAt: number;
}

export function buildInstance(matrix: TravelMatrix, windows: readonly (StopWindowSeconds | undefined)[], serviceSeconds: readonly number[]): Instance {
  const size = windows.length;
  const width = size + 1;
  const distance = new Float64Array(width * width);
  const duration = new Float64Array(width * width);
  for (let i = 0; i < width; i++) {
    for (let j = 0; j < width; j++) {
      distance[i * width + j] = matrix.distancesMetres[i]?.[j] ?? 0;
      duration[i * width + j] = matrix.durationsSeconds[i]?.[j] ?? 0;
    }
  }
  const opensAt = new Float64Array(width).fill(-Infinity);
  const closesAt = new Float64Array(width).fill(Infinity);
  const service = new Float64Array(width);
  windows.forEach((window, s) => {
    if (window !== undefined) {
      opensAt[s + 1] = window.opensAt;
      closesAt[s + 1] = window.closesAt;
    }
    service[s + 1] = serviceSeconds[s] ?? 0;
  });
  return { size, distance, duration, opensAt, closesAt, serviceSeconds: service, hasWindows: windows.some((w) => w !== undefined) };
}

export interface Evaluation {
  readonly distance: number;
  readonly lateness: number;
  readonly cost: number;
}

export const costOf = (distance: number, lateness: number): number => distance + LATENESS_PENALTY_METRES_PER_SECOND * lateness;

/** Distance and total lateness of visiting `order` (stop locations 1…n) from and back to the depot. */
export function evaluate(instance: Instance, order: readonly number[]): Evaluation {
  const width = instance.size + 1;
  let at = 0;
  let time = 0;
  let distance = 0;
  let lateness = 0;
  for (const stop of order) {
    distance += instance.distance[at * width + stop] ?? 0;
    const arrival = time + (instance.duration[at * width + stop] ?? 0);
    const start = Math.max(arrival, instance.opensAt[stop] ?? -Infinity);
    lateness += Math.max(0, start - (instance.closesAt[stop] ?? Infinity));
    time = start + (instance.serviceSeconds[stop] ?? 0);
    at = stop;
  }
  distance += instance.distance[at * width] ?? 0;
  return { distance, lateness, cost: costOf(distance, lateness) };
}

export interface Visit {
  readonly location: number;
  readonly legDistance: number;
  readonly legDuration: number;
  readonly arrival: number;
  readonly serviceStart: number;
  readonly departure: number;
  readonly wait: number;
  readonly lateness: number;
}

export interface Timeline {
  readonly visits: readonly Visit[];
  readonly returnLegDistance: number;
  readonly returnLegDuration: number;
  /** Seconds after the start when the vehicle is back at the depot. */
  readonly returnAt: number;
}

/** The full schedule of `order`: per stop the leg travelled to it, arrival, wait, service start, departure and lateness. */
export function timeline(instance: Instance, order: readonly number[]): Timeline {
  const width = instance.size + 1;
  const visits: Visit[] = [];
  let at = 0;
  let time = 0;
  for (const stop of order) {
    const legDistance = instance.distance[at * width + stop] ?? 0;
    const legDuration = instance.duration[at * width + stop] ?? 0;
    const arrival = time + legDuration;
    const serviceStart = Math.max(arrival, instance.opensAt[stop] ?? -Infinity);
    const departure = serviceStart + (instance.serviceSeconds[stop] ?? 0);
    visits.push({ location: stop, legDistance, legDuration, arrival, serviceStart, departure, wait: serviceStart - arrival, lateness: Math.max(0, serviceStart - (instance.closesAt[stop] ?? Infinity)) });
    time = departure;
    at = stop;
  }
  const returnLegDuration = instance.duration[at * width] ?? 0;
  return { visits, returnLegDistance: instance.distance[at * width] ?? 0, returnLegDuration, returnAt: time + returnLegDuration };
}
