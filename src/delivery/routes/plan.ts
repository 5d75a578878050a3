import { RampartError } from '../../kernel/errors.ts';
import { DEPOT_LOCATION_ID, optimiseRoute, RoutingError, timeInOrder, type GeoPoint, type MatrixProvider, type PlannedRoute, type RouteProblem, type RoutingFailure, type TravelMatrix } from '../planning/index.ts';

// From a route's stops to a timed plan: fetch the travel matrix once, choose
// the departure, then either optimise the order or keep the one given (a
// dispatcher's reorder, or re-timing after a stop was added or removed).
//
// Departure: just in time to reach the earliest-opening stop as its window
// opens, and never before `notBefore` (the planning time). Stop ids given to
// the planner are shipment ids (unique on a route).

export interface PlanStop {
  readonly shipmentId: string;
  readonly trackingNumber: string;
  readonly point: GeoPoint;
  readonly window: { readonly start: string; readonly end: string };
}

export interface PlanRequest {
  readonly depot: GeoPoint;
  readonly stops: readonly PlanStop[];
  readonly notBefore: Date;
  readonly serviceSeconds: number;
}

export type OrderMode = 'optimise' | 'keep';

export interface PlanOutcome {
  readonly plan: PlannedRoute;
  /** Set when the configured road-routing provider failed and the caller asked for great-circle distances instead. */
  readonly fallbackReason?: RoutingFailure;
}

export interface Providers {
  readonly configured: MatrixProvider;
  readonly greatCircle: MatrixProvider;
}

/** A RoutingError as the 502 the caller sees: the reason, and how to plan anyway. */
export function routingFailed(error: RoutingError): RampartError {
  return new RampartError('planning.routing_failed', error.message, {
    cause: error,
    publicDetail: `Road routing failed (${error.reason}). Nothing was changed; send "fallback": true to plan with great-circle distances instead.`,
  });
}

export async function planStops(request: PlanRequest, providers: Providers, mode: OrderMode, fallback: boolean): Promise<PlanOutcome> {
  const locations = [{ id: DEPOT_LOCATION_ID, point: request.depot }, ...request.stops.map((s) => ({ id: s.shipmentId, point: s.point }))];
  let matrix: TravelMatrix;
  let fallbackReason: RoutingFailure | undefined;
  try {
    matrix = await providers.configured.matrix(locations);
  } catch (error) {
    if (!(error instanceof RoutingError)) throw error;
    if (!fallback || providers.configured.name === 'great-circle') throw routingFailed(error);
    fallbackReason = error.reason;
    matrix = await providers.greatCircle.matrix(locations);
  }
  const problem = routeProblem(request, matrix);
  const plan = mode === 'optimise' ? optimiseRoute(problem, matrix) : timeInOrder(problem, matrix);
  return fallbackReason === undefined ? { plan } : { plan, fallbackReason };
}

/** The departure rule above, as a route problem whose stop ids are shipment ids. */
export function routeProblem(request: PlanRequest, matrix: TravelMatrix): RouteProblem {
  let departureMs = Infinity;
  request.stops.forEach((stop, i) => {
    departureMs = Math.min(departureMs, Date.parse(stop.window.start) - (matrix.durationsSeconds[0]?.[i + 1] ?? 0) * 1000);
  });
  const startAt = Math.max(request.notBefore.getTime(), Number.isFinite(departureMs) ? Math.floor(departureMs) : -Infinity);
  return {
    depot: request.depot,
    startAt,
    defaultServiceSeconds: request.serviceSeconds,
    stops: request.stops.map((s) => ({ id: s.shipmentId, shipmentId: s.shipmentId, trackingNumber: s.trackingNumber, point: s.point, window: [s.window.start, s.window.end] as const })),
  };
}
