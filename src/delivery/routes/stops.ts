import type { Kysely } from 'kysely';
import type { Clock } from '../../kernel/clock.ts';
import { RampartError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { Db } from '../../storage/database.ts';
import type { Tables } from '../../storage/tables.ts';
import { invalid } from '../checks.ts';
import { loadDepot } from '../depots/depots.service.ts';
import { MAX_ROUTE_STOPS, type PlannedRoute, type RoutingFailure } from '../planning/index.ts';
import type { ShipmentLifecycle } from '../shipments/lifecycle.ts';
import { planStops, type OrderMode, type PlanStop, type Providers } from './plan.ts';

// Shipments as a route's stops, shared by route creation and stop editing:
// the shipments checked for a route, the timed plan for a depot's stops
// (fetched before any transaction: no network inside one) and the row of a
// planned stop.

export interface RouteServiceOptions {
  readonly db: Db;
  readonly clock: Clock;
  readonly lifecycle: ShipmentLifecycle;
  readonly providers: Providers;
  /** Service time at each stop (`planning.serviceMinutes`). */
  readonly serviceSeconds: number;
}

export interface Planned<T> {
  readonly value: T;
  readonly fallbackReason?: RoutingFailure;
}

export interface Candidate extends PlanStop {
  readonly weightKg: number;
}

const unavailable = (shipmentId: string, why: string) => new RampartError('delivery_route.shipment_unavailable', `shipment ${shipmentId}: ${why}`, { publicDetail: `Shipment ${shipmentId} ${why}.` });
const utcDate = (iso: string) => new Date(iso).toISOString().slice(0, 10);

/** The shipments, checked for a route of `depotId` on `date`, in the order given. */
export async function routeCandidates(db: Kysely<Tables>, shipmentIds: readonly string[], depotId: string, date: string): Promise<Candidate[]> {
  if (new Set(shipmentIds).size !== shipmentIds.length) throw invalid('A shipment appears more than once.');
  if (shipmentIds.length === 0) return [];
  const rows = await db
    .selectFrom('shipments')
    .select(['id', 'tracking_number', 'depot_id', 'mode', 'status', 'dest_lat', 'dest_lon', 'window_start', 'window_end', 'weight_kg'])
    .where('id', 'in', [...shipmentIds])
    .execute();
  const onRoutes = new Set(
    (await db.selectFrom('route_stops').select('shipment_id').where('shipment_id', 'in', [...shipmentIds]).where('status', 'in', ['pending', 'arrived']).execute()).map((r) => r.shipment_id),
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  return shipmentIds.map((id) => {
    const row = byId.get(id);
    // Another depot's shipment answers like a missing one: a depot-scoped dispatcher learns nothing of it.
    if (row === undefined || row.depot_id !== depotId) throw new RampartError('shipment.not_found', `no shipment ${id} in depot ${depotId}`, { publicDetail: `No shipment ${id}.` });
    if (row.mode !== 'truck') throw unavailable(id, 'is a drone delivery');
    if (row.status !== 'created' && row.status !== 'failed') throw unavailable(id, `is ${row.status}, not waiting for assignment`);
    if (onRoutes.has(id)) throw unavailable(id, 'is already on an active route');
    if (utcDate(row.window_start) !== date) throw unavailable(id, `has its window on ${utcDate(row.window_start)}, not ${date}`);
    return { shipmentId: id, trackingNumber: row.tracking_number, point: { lat: row.dest_lat, lon: row.dest_lon }, window: { start: row.window_start, end: row.window_end }, weightKg: row.weight_kg };
  });
}

/** The timed plan for `stops` from `depotId`'s location, departing no earlier than now. */
export async function planDepotStops(options: RouteServiceOptions, depotId: string, stops: readonly PlanStop[], mode: OrderMode, fallback: boolean): Promise<{ plan: PlannedRoute; fallbackReason?: RoutingFailure }> {
  if (stops.length > MAX_ROUTE_STOPS) throw invalid(`A route holds at most ${MAX_ROUTE_STOPS} stops.`);
  const depot = await loadDepot(options.db, depotId);
  return planStops({ depot: depot.location, stops, notBefore: options.clock.now(), serviceSeconds: options.serviceSeconds }, options.providers, mode, fallback);
}

/** The row of a pending stop as planned. */
export function stopRow(routeId: string, shipmentId: string, sequence: number, stop: PlannedRoute['stops'][number], now: string) {
  return {
    id: newId('stp'),
    route_id: routeId,
    shipment_id: shipmentId,
    sequence,
    status: 'pending' as const,
    leg_distance_m: stop.leg.distanceMetres,
    leg_duration_s: stop.leg.durationSeconds,
    planned_eta: stop.serviceStartAt,
    planned_departure_at: stop.departureAt,
    lateness_s: stop.latenessSeconds,
    arrived_at: null,
    finished_at: null,
    created_at: now,
  };
}

/** What making routes and editing their stops share: the stores, the clock, the lifecycle and the planner. */
export abstract class RouteChanges {
  protected readonly options: RouteServiceOptions;
  protected readonly db: Db;
  protected readonly clock: Clock;
  protected readonly lifecycle: ShipmentLifecycle;

  constructor(options: RouteServiceOptions) {
    this.options = options;
    this.db = options.db;
    this.clock = options.clock;
    this.lifecycle = options.lifecycle;
  }

  protected plan(depotId: string, stops: readonly PlanStop[], mode: OrderMode, fallback: boolean): Promise<{ plan: PlannedRoute; fallbackReason?: RoutingFailure }> {
    return planDepotStops(this.options, depotId, stops, mode, fallback);
  }
}
