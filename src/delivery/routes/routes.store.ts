import type { Kysely, Selectable } from 'kysely';
import type { AuditedChange, JsonValue } from '../../audit/append.ts';
import { RampartError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { RouteEventKind, RouteStatus, RouteStopStatus, RouteTable, Tables } from '../../storage/tables.ts';
import type { PlannedRoute, PlannedStop, RouteFeatureCollection } from '../planning/index.ts';
import { routeFeatureCollection } from '../planning/index.ts';
import type { Resource } from '../../identity/rbac.ts';

// Route rows and their views. A route's stops are read with their shipment's
// tracking number, destination and window (never the recipient); removed
// stops are kept for the history but left out of the route's order.

export const ACTIVE_ROUTE_STATUSES: readonly RouteStatus[] = ['planned', 'in_progress'];
export const ACTIVE_STOP_STATUSES: readonly RouteStopStatus[] = ['pending', 'arrived'];

export interface RouteSummary {
  readonly id: string;
  readonly depotId: string;
  readonly driverId: string;
  readonly vehicleId: string;
  readonly date: string;
  readonly status: RouteStatus;
  readonly provider: 'osrm' | 'great-circle';
  readonly totalDistanceMetres: number;
  readonly totalDurationSeconds: number;
  readonly departureAt: string;
  readonly returnAt: string;
  readonly plannedAt: string;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
  readonly revision: number;
}

export interface StopView {
  readonly id: string;
  readonly sequence: number;
  readonly shipmentId: string;
  readonly trackingNumber: string;
  readonly status: RouteStopStatus;
  readonly destination: { readonly lat: number; readonly lon: number };
  readonly window: { readonly start: string; readonly end: string };
  readonly eta: string;
  readonly departureAt: string;
  readonly latenessSeconds: number;
  readonly legDistanceMetres: number;
  readonly legDurationSeconds: number;
  readonly arrivedAt: string | null;
}

export interface RouteDetail extends RouteSummary {
  readonly depot: { readonly lat: number; readonly lon: number };
  readonly stops: StopView[];
}

export function routeView(row: Selectable<RouteTable>): RouteSummary {
  return {
    id: row.id,
    depotId: row.depot_id,
    driverId: row.driver_id,
    vehicleId: row.vehicle_id,
    date: row.service_date,
    status: row.status,
    provider: row.matrix_provider,
    totalDistanceMetres: row.total_distance_m,
    totalDurationSeconds: row.total_duration_s,
    departureAt: row.departure_at,
    returnAt: row.return_at,
    plannedAt: row.planned_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    revision: row.revision,
  };
}

/** The object `can` looks at: the driver owns it, the depot scopes it. */
export function routeResource(route: Pick<RouteSummary, 'id' | 'driverId' | 'depotId'>): Resource {
  return { type: 'route', id: route.id, ownerId: route.driverId, depotId: route.depotId };
}

export async function loadRouteRow(db: Kysely<Tables>, id: string): Promise<Selectable<RouteTable>> {
  const row = await db.selectFrom('routes').selectAll().where('id', '=', id).executeTakeFirst();
  if (row === undefined) throw new RampartError('delivery_route.not_found', `no route ${id}`);
  return row;
}

/** The route's stops that are not removed, in visiting order. */
export async function loadStops(db: Kysely<Tables>, routeId: string): Promise<StopView[]> {
  const rows = await db
    .selectFrom('route_stops')
    .innerJoin('shipments', 'shipments.id', 'route_stops.shipment_id')
    .select([
      'route_stops.id',
      'route_stops.sequence',
      'route_stops.shipment_id',
      'route_stops.status',
      'route_stops.planned_eta',
      'route_stops.planned_departure_at',
      'route_stops.lateness_s',
      'route_stops.leg_distance_m',
      'route_stops.leg_duration_s',
      'route_stops.arrived_at',
      'shipments.tracking_number',
      'shipments.dest_lat',
      'shipments.dest_lon',
      'shipments.window_start',
      'shipments.window_end',
    ])
    .where('route_stops.route_id', '=', routeId)
    .where('route_stops.status', '!=', 'removed')
    .orderBy('route_stops.sequence')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    sequence: r.sequence,
    shipmentId: r.shipment_id,
    trackingNumber: r.tracking_number,
    status: r.status,
    destination: { lat: r.dest_lat, lon: r.dest_lon },
    window: { start: r.window_start, end: r.window_end },
    eta: r.planned_eta,
    departureAt: r.planned_departure_at,
    latenessSeconds: r.lateness_s,
    legDistanceMetres: r.leg_distance_m,
    legDurationSeconds: r.leg_duration_s,
    arrivedAt: r.arrived_at,
  }));
}

export async function loadRouteDetail(db: Kysely<Tables>, id: string): Promise<RouteDetail> {
  const row = await loadRouteRow(db, id);
  const depot = await db.selectFrom('depots').select(['lat', 'lon']).where('id', '=', row.depot_id).executeTakeFirstOrThrow();
  return { ...routeView(row), depot: { lat: depot.lat, lon: depot.lon }, stops: await loadStops(db, id) };
}

/** The stored route as the planner's shape, for the GeoJSON map. */
export function storedPlan(route: RouteDetail): PlannedRoute {
  const stops: PlannedStop[] = route.stops.map((s) => ({
    sequence: s.sequence,
    id: s.id,
    shipmentId: s.shipmentId,
    trackingNumber: s.trackingNumber,
    point: s.destination,
    window: s.window,
    leg: { distanceMetres: s.legDistanceMetres, durationSeconds: s.legDurationSeconds },
    eta: s.eta,
    serviceStartAt: s.eta,
    departureAt: s.departureAt,
    waitSeconds: 0,
    serviceSeconds: (Date.parse(s.departureAt) - Date.parse(s.eta)) / 1000,
    latenessSeconds: s.latenessSeconds,
  }));
  const legs = stops.reduce((total, s) => total + s.leg.distanceMetres, 0);
  return {
    provider: route.provider,
    depot: route.depot,
    startAt: route.departureAt,
    returnAt: route.returnAt,
    stops,
    returnLeg: { distanceMetres: Math.max(0, route.totalDistanceMetres - legs), durationSeconds: 0 },
    totalDistanceMetres: route.totalDistanceMetres,
    totalDurationSeconds: route.totalDurationSeconds,
    totalTravelSeconds: 0,
    totalWaitSeconds: 0,
    totalServiceSeconds: 0,
    totalLatenessSeconds: stops.reduce((total, s) => total + s.latenessSeconds, 0),
    lateStopIds: stops.filter((s) => s.latenessSeconds > 0).map((s) => s.id),
    inputOrderDistanceMetres: route.totalDistanceMetres,
  };
}

/** The GeoJSON FeatureCollection of routeFeatureCollection, as a plain document for the API. */
export function routeMap(route: RouteDetail): { type: RouteFeatureCollection['type']; features: unknown[] } {
  const collection = routeFeatureCollection(storedPlan(route));
  return { type: collection.type, features: [...collection.features] };
}

export interface RouteEventInput {
  readonly routeId: string;
  readonly kind: RouteEventKind;
  readonly change: AuditedChange;
  readonly at: string;
  readonly before?: readonly string[] | undefined;
  readonly after?: readonly string[] | undefined;
  readonly details?: Record<string, JsonValue>;
}

/** Appends to the route's history (seq = last + 1), in the caller's transaction. */
export async function recordRouteEvent(trx: Kysely<Tables>, input: RouteEventInput): Promise<void> {
  const last = await trx.selectFrom('route_events').select((eb) => eb.fn.max('seq').as('seq')).where('route_id', '=', input.routeId).executeTakeFirst();
  await trx
    .insertInto('route_events')
    .values({
      id: newId('rev'),
      route_id: input.routeId,
      seq: (last?.seq ?? 0) + 1,
      kind: input.kind,
      actor_type: input.change.actor.type,
      actor_id: input.change.actor.id ?? null,
      at: input.at,
      before_order: input.before === undefined ? null : JSON.stringify(input.before),
      after_order: input.after === undefined ? null : JSON.stringify(input.after),
      details: JSON.stringify(input.details ?? {}),
    })
    .execute();
}

export interface RouteEventView {
  readonly seq: number;
  readonly kind: RouteEventKind;
  readonly actor: { readonly type: string; readonly id: string | null };
  readonly at: string;
  readonly before: string[] | null;
  readonly after: string[] | null;
  readonly details: Record<string, JsonValue>;
}

export async function routeHistory(db: Kysely<Tables>, routeId: string): Promise<RouteEventView[]> {
  const rows = await db.selectFrom('route_events').selectAll().where('route_id', '=', routeId).orderBy('seq').execute();
  return rows.map((r) => ({
    seq: r.seq,
    kind: r.kind,
    actor: { type: r.actor_type, id: r.actor_id },
    at: r.at,
    before: r.before_order === null ? null : (JSON.parse(r.before_order) as string[]),
    after: r.after_order === null ? null : (JSON.parse(r.after_order) as string[]),
    details: JSON.parse(r.details) as Record<string, JsonValue>,
  }));
}

/** The shipment ids of the route's stops that are not removed, in order. */
export async function currentOrder(trx: Kysely<Tables>, routeId: string): Promise<string[]> {
  const rows = await trx.selectFrom('route_stops').select('shipment_id').where('route_id', '=', routeId).where('status', '!=', 'removed').orderBy('sequence').execute();
  return rows.map((r) => r.shipment_id);
}
