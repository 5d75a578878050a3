import { PlanningInputError } from './errors.ts';
import { pointProblems, type GeoPoint } from './geo.ts';
import { MAX_LOCATIONS } from './matrix.ts';

// Checks and normalisation of route-planning input. Every problem is collected
// and reported at once (PlanningInputError), naming the field.

/** Epoch milliseconds, or an ISO 8601 date-time with a zone (`Z` or `±hh:mm`). */
export type TimeInput = number | string;

export interface RouteStop {
  /** Unique within the route; the caller's id (e.g. the shipment's stop id). */
  readonly id: string;
  readonly point: GeoPoint;
  /** Service must start within [start, end]; arriving early means waiting, later is reported as lateness. */
  readonly window?: readonly [start: TimeInput, end: TimeInput];
  /** Time spent at the stop; `defaultServiceSeconds` when absent. */
  readonly serviceSeconds?: number;
  readonly shipmentId?: string;
  readonly trackingNumber?: string;
}

export interface RouteProblem {
  /** Where the vehicle starts and ends. */
  readonly depot: GeoPoint;
  readonly stops: readonly RouteStop[];
  /** When the vehicle leaves the depot. */
  readonly startAt: TimeInput;
  /** Service time of stops that do not give one (`planning.serviceMinutes` × 60); 0 when absent. */
  readonly defaultServiceSeconds?: number;
}

/** The depot plus this many stops fits one OSRM table request (100 locations). */
export const MAX_ROUTE_STOPS = MAX_LOCATIONS - 1;
export const MAX_SERVICE_SECONDS = 24 * 3600;
const MAX_ID_LENGTH = 128;
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

export interface PreparedStop {
  readonly stop: RouteStop;
  readonly window: { readonly startMs: number; readonly endMs: number } | undefined;
  readonly serviceSeconds: number;
}

export interface PreparedProblem {
  readonly startMs: number;
  readonly stops: readonly PreparedStop[];
}

/** Parses a time input to epoch milliseconds, or returns a problem. */
export function parseTime(input: unknown, at: string): { ms: number } | { problem: string } {
  if (typeof input === 'number') {
    return Number.isFinite(input) && Math.abs(input) <= 8.64e15 ? { ms: input } : { problem: `${at}: must be epoch milliseconds or an ISO 8601 date-time` };
  }
  if (typeof input === 'string' && ISO_WITH_ZONE.test(input)) {
    const ms = Date.parse(input);
    if (!Number.isNaN(ms)) return { ms };
  }
  return { problem: `${at}: must be epoch milliseconds or an ISO 8601 date-time with a zone (Z or ±hh:mm)` };
}

const serviceProblem = (value: unknown, at: string) =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= MAX_SERVICE_SECONDS ? undefined : `${at}: must be seconds in [0, ${MAX_SERVICE_SECONDS}]`;

/** Validates a route problem and resolves times and service durations; throws PlanningInputError listing every problem. */
export function prepareProblem(problem: RouteProblem): PreparedProblem {
  const problems: string[] = [...pointProblems(problem.depot, 'depot')];
  const start = parseTime(problem.startAt, 'startAt');
  if ('problem' in start) problems.push(start.problem);
  const fallbackService = problem.defaultServiceSeconds ?? 0;
  const fallbackProblem = serviceProblem(fallbackService, 'defaultServiceSeconds');
  if (fallbackProblem !== undefined) problems.push(fallbackProblem);
  if (problem.stops.length > MAX_ROUTE_STOPS) problems.push(`stops: at most ${MAX_ROUTE_STOPS} per route, got ${problem.stops.length}`);

  const seen = new Set<string>();
  const stops: PreparedStop[] = problem.stops.map((stop, i) => {
    const at = `stops[${i}]`;
    if (typeof stop.id !== 'string' || stop.id.length === 0 || stop.id.length > MAX_ID_LENGTH) problems.push(`${at}.id: must be 1 to ${MAX_ID_LENGTH} characters`);
    else if (seen.has(stop.id)) problems.push(`${at}.id: "${stop.id}" appears more than once`);
    seen.add(stop.id);
    problems.push(...pointProblems(stop.point, `${at}.point`));
    const service = stop.serviceSeconds ?? fallbackService;
    const badService = stop.serviceSeconds === undefined ? undefined : serviceProblem(stop.serviceSeconds, `${at}.serviceSeconds`);
    if (badService !== undefined) problems.push(badService);
    let window: PreparedStop['window'];
    if (stop.window !== undefined) {
      const opens = parseTime(stop.window[0], `${at}.window[0]`);
      const closes = parseTime(stop.window[1], `${at}.window[1]`);
      if ('problem' in opens) problems.push(opens.problem);
      if ('problem' in closes) problems.push(closes.problem);
      if ('ms' in opens && 'ms' in closes) {
        if (closes.ms < opens.ms) problems.push(`${at}.window: ends before it starts`);
        window = { startMs: opens.ms, endMs: closes.ms };
      }
    }
    return { stop, window, serviceSeconds: service };
  });
  if (problems.length > 0 || 'problem' in start) throw new PlanningInputError(problems);
  return { startMs: start.ms, stops };
}
