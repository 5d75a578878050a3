import type { Kysely, Selectable } from 'kysely';
import type { Clock } from '../../kernel/clock.ts';
import { RampartError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { Db } from '../../storage/database.ts';
import type { RouteTable, Tables } from '../../storage/tables.ts';
import { auditDelivery, decodeCursor, encodeCursor, invalid, type DeliveryChange } from '../common.ts';
import { loadDepot } from '../depots/depots.service.ts';
import { checkDriverFor, loadDriver, plannableDriverStatus } from '../fleet/fleet.service.ts';
import type { PlannedRoute, RoutingFailure } from '../planning/index.ts';
import { MAX_ROUTE_STOPS } from '../planning/index.ts';
import type { ShipmentLifecycle } from '../shipments/lifecycle.ts';
import { planStops, type OrderMode, type PlanStop, type Providers } from './plan.ts';
import { ACTIVE_ROUTE_STATUSES, currentOrder, loadRouteDetail, loadRouteRow, recordRouteEvent, routeHistory, routeView, type RouteDetail, type RouteEventView, type RouteSummary } from './routes.store.ts';
import { sweepGroups } from './sweep.ts';

// Routes for dispatchers: creation (the shipments assigned through the
// lifecycle in the same transaction), a depot's day planned at once, and
// changes to the order or the stops. Each change fetches the travel matrix
// before its transaction (no network inside one), then commits the new order,
// ETAs and totals, the route's history and an audit entry together,
// compare-and-set on the route's revision so a concurrent change is refused.
// Stops are added, removed and moved only while the route is planned: once
// started, its parcels are on the road and leave it through a delivery, a
// failed attempt or a return.

export interface RouteServiceOptions {
  readonly db: Db;
  readonly clock: Clock;
  readonly lifecycle: ShipmentLifecycle;
  readonly providers: Providers;
  /** Service time at each stop (`planning.serviceMinutes`). */
  readonly serviceSeconds: number;
}

export interface NewRoute {
  readonly driverId: string;
  readonly vehicleId: string;
  readonly date: string;
  readonly shipmentIds: readonly string[];
  readonly optimise: boolean;
  readonly fallback: boolean;
}

export interface RouteQuery {
  readonly depots?: readonly string[] | undefined;
  readonly ownerId?: string | undefined;
  readonly date?: string | undefined;
  readonly driver?: string | undefined;
  readonly depot?: string | undefined;
  readonly status?: RouteSummary['status'] | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface Planned<T> {
  readonly value: T;
  readonly fallbackReason?: RoutingFailure;
}

interface Candidate extends PlanStop {
  readonly weightKg: number;
}

type RouteRow = Selectable<RouteTable>;

const unavailable = (shipmentId: string, why: string) => new RampartError('delivery_route.shipment_unavailable', `shipment ${shipmentId}: ${why}`, { publicDetail: `Shipment ${shipmentId} ${why}.` });
const notEditable = (why: string) => new RampartError('delivery_route.not_editable', why, { publicDetail: why });
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

export class RouteService {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #lifecycle: ShipmentLifecycle;
  readonly #providers: Providers;
  readonly #serviceSeconds: number;

  constructor(options: RouteServiceOptions) {
    this.#db = options.db;
    this.#clock = options.clock;
    this.#lifecycle = options.lifecycle;
    this.#providers = options.providers;
    this.#serviceSeconds = options.serviceSeconds;
  }

  get(id: string): Promise<RouteDetail> {
    return loadRouteDetail(this.#db, id);
  }

  async summary(id: string): Promise<RouteSummary> {
    return routeView(await loadRouteRow(this.#db, id));
  }

  history(id: string): Promise<RouteEventView[]> {
    return routeHistory(this.#db, id);
  }

  /** The driver's planned or in-progress route of the day (else the last completed one), if any. */
  async forDriver(driverId: string, date: string): Promise<RouteDetail | undefined> {
    const row = await this.#db
      .selectFrom('routes')
      .select('id')
      .where('driver_id', '=', driverId)
      .where('service_date', '=', date)
      .where('status', '!=', 'cancelled')
      .orderBy('planned_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? undefined : this.get(row.id);
  }

  /** Newest service date first; keyset-paginated on (date, id). */
  async list(query: RouteQuery): Promise<{ items: RouteSummary[]; nextCursor: string | null }> {
    if (query.depots !== undefined && query.depots.length === 0) return { items: [], nextCursor: null };
    let select = this.#db.selectFrom('routes').selectAll().orderBy('service_date', 'desc').orderBy('id', 'desc').limit(query.limit + 1);
    if (query.depots !== undefined) select = select.where('depot_id', 'in', [...query.depots]);
    if (query.ownerId !== undefined) select = select.where('driver_id', '=', query.ownerId);
    if (query.date !== undefined) select = select.where('service_date', '=', query.date);
    if (query.driver !== undefined) select = select.where('driver_id', '=', query.driver);
    if (query.depot !== undefined) select = select.where('depot_id', '=', query.depot);
    if (query.status !== undefined) select = select.where('status', '=', query.status);
    if (query.cursor !== undefined) {
      const { value, id } = decodeCursor(query.cursor);
      select = select.where((eb) => eb.or([eb('service_date', '<', String(value)), eb.and([eb('service_date', '=', String(value)), eb('id', '<', id)])]));
    }
    const rows = await select.execute();
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return { items: page.map(routeView), nextCursor: rows.length > query.limit && last !== undefined ? encodeCursor(last.service_date, last.id) : null };
  }

  async #plan(depotId: string, stops: readonly PlanStop[], mode: OrderMode, fallback: boolean): Promise<{ plan: PlannedRoute; fallbackReason?: RoutingFailure }> {
    if (stops.length > MAX_ROUTE_STOPS) throw invalid(`A route holds at most ${MAX_ROUTE_STOPS} stops.`);
    const depot = await loadDepot(this.#db, depotId);
    return planStops({ depot: depot.location, stops, notBefore: this.#clock.now(), serviceSeconds: this.#serviceSeconds }, this.#providers, mode, fallback);
  }

  /** Refuses a vehicle that is inactive, elsewhere or taken, a driver already planned, or a load over the payload. */
  async #checkResources(trx: Kysely<Tables>, depotId: string, driverId: string, vehicleId: string, date: string, weightKg: number): Promise<void> {
    await checkDriverFor(trx, driverId, depotId);
    const vehicle = await trx.selectFrom('vehicles').select(['depot_id', 'status', 'max_payload_kg']).where('id', '=', vehicleId).executeTakeFirst();
    if (vehicle === undefined) throw new RampartError('vehicle.not_found', `no vehicle ${vehicleId}`);
    const taken = (why: string) => new RampartError('delivery_route.taken', why, { publicDetail: why });
    if (vehicle.depot_id !== depotId) throw taken(`Vehicle ${vehicleId} belongs to depot ${vehicle.depot_id}, not ${depotId}.`);
    if (vehicle.status !== 'active') throw taken(`Vehicle ${vehicleId} is inactive.`);
    const busy = await trx.selectFrom('routes').select(['id', 'driver_id', 'vehicle_id']).where('service_date', '=', date).where('status', 'in', [...ACTIVE_ROUTE_STATUSES]).where((eb) => eb.or([eb('driver_id', '=', driverId), eb('vehicle_id', '=', vehicleId)])).executeTakeFirst();
    if (busy !== undefined) throw taken(busy.driver_id === driverId ? `The driver already has route ${busy.id} on ${date}.` : `Vehicle ${vehicleId} already serves route ${busy.id} on ${date}.`);
    if (weightKg > vehicle.max_payload_kg) throw new RampartError('delivery_route.over_capacity', `route ${weightKg} kg > ${vehicle.max_payload_kg} kg`, { publicDetail: `The parcels weigh ${Math.round(weightKg * 10) / 10} kg; vehicle ${vehicleId} carries at most ${vehicle.max_payload_kg} kg.` });
  }

  /** Inserts the route, its stops and history, and assigns every shipment to the driver. */
  async #insertRoute(trx: Kysely<Tables>, input: { depotId: string; driverId: string; vehicleId: string; date: string; candidates: Candidate[]; plan: PlannedRoute }, change: DeliveryChange, extra: Record<string, string | number | boolean>): Promise<string> {
    const fresh = await routeCandidates(trx, input.candidates.map((c) => c.shipmentId), input.depotId, input.date);
    await this.#checkResources(trx, input.depotId, input.driverId, input.vehicleId, input.date, fresh.reduce((total, c) => total + c.weightKg, 0));
    const now = this.#clock.now().toISOString();
    const id = newId('rte');
    const { plan } = input;
    await trx
      .insertInto('routes')
      .values({
        id,
        depot_id: input.depotId,
        driver_id: input.driverId,
        vehicle_id: input.vehicleId,
        service_date: input.date,
        status: 'planned',
        matrix_provider: plan.provider,
        total_distance_m: plan.totalDistanceMetres,
        total_duration_s: plan.totalDurationSeconds,
        departure_at: plan.startAt,
        return_at: plan.returnAt,
        planned_at: now,
        started_at: null,
        completed_at: null,
        revision: 1,
        updated_at: now,
      })
      .execute();
    for (const stop of plan.stops) {
      await trx.insertInto('route_stops').values(stopRow(id, stop.shipmentId ?? stop.id, stop.sequence, stop, now)).execute();
      await this.#lifecycle.assign(trx, { ...change, shipmentId: stop.shipmentId ?? stop.id, driverId: input.driverId });
    }
    const order = plan.stops.map((s) => s.shipmentId ?? s.id);
    await recordRouteEvent(trx, { routeId: id, kind: 'created', change, at: now, after: order, details: { provider: plan.provider, ...extra } });
    await auditDelivery(trx, this.#clock, change, 'route.create', { type: 'route', id }, {
      depot: input.depotId,
      driver: input.driverId,
      vehicle: input.vehicleId,
      date: input.date,
      stops: order.length,
      provider: plan.provider,
      distanceMetres: Math.round(plan.totalDistanceMetres),
      ...extra,
    });
    return id;
  }

  async create(input: NewRoute, change: DeliveryChange): Promise<Planned<RouteDetail>> {
    const driver = await loadDriver(this.#db, input.driverId);
    const depotId = driver.homeDepotId;
    const candidates = await routeCandidates(this.#db, input.shipmentIds, depotId, input.date);
    const { plan, fallbackReason } = await this.#plan(depotId, candidates, input.optimise ? 'optimise' : 'keep', input.fallback);
    const id = await this.#db.transaction().execute((trx) =>
      this.#insertRoute(trx, { depotId, driverId: input.driverId, vehicleId: input.vehicleId, date: input.date, candidates, plan }, change, { optimised: input.optimise, ...(fallbackReason === undefined ? {} : { fallbackReason }) }),
    );
    return { value: await this.get(id), ...(fallbackReason === undefined ? {} : { fallbackReason }) };
  }

  /**
   * Plans a depot's day: its unassigned truck shipments with windows on `date`
   * are shared among its enabled drivers (active or still awaiting their own
   * setup) that have no route that day, each paired with an active vehicle
   * that has none either (both by id), by the sweep in sweep.ts; each group is optimised; heavier groups get the
   * vehicles with the larger payload. All routes commit in one transaction.
   */
  async planDepot(depotId: string, date: string, fallback: boolean, change: DeliveryChange): Promise<Planned<RouteDetail[]>> {
    const depot = await loadDepot(this.#db, depotId);
    const nothing = (why: string) => new RampartError('delivery_route.nothing_to_plan', why, { publicDetail: why });
    const dayStart = `${date}T00:00:00.000Z`;
    const dayEnd = new Date(Date.parse(dayStart) + 86_400_000).toISOString();
    const waiting = await this.#db
      .selectFrom('shipments')
      .select('id')
      .where('depot_id', '=', depotId)
      .where('mode', '=', 'truck')
      .where('status', 'in', ['created', 'failed'])
      .where('window_start', '>=', dayStart)
      .where('window_start', '<', dayEnd)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('route_stops').select('route_stops.id').whereRef('route_stops.shipment_id', '=', 'shipments.id').where('route_stops.status', 'in', ['pending', 'arrived']))))
      .orderBy('id')
      .execute();
    const candidates = await routeCandidates(this.#db, waiting.map((w) => w.id), depotId, date);
    if (candidates.length === 0) throw nothing(`Depot ${depotId} has no unassigned truck shipments with windows on ${date}.`);
    const busy = await this.#db.selectFrom('routes').select(['driver_id', 'vehicle_id']).where('service_date', '=', date).where('status', 'in', [...ACTIVE_ROUTE_STATUSES]).execute();
    const drivers = (
      await this.#db
        .selectFrom('driver_profiles')
        .innerJoin('accounts', 'accounts.id', 'driver_profiles.account_id')
        .select('driver_profiles.account_id')
        .where('driver_profiles.home_depot_id', '=', depotId)
        .select('accounts.status')
        .where('accounts.role', '=', 'driver')
        .orderBy('driver_profiles.account_id')
        .execute()
    )
      .filter((d) => plannableDriverStatus(d.status))
      .map((d) => d.account_id)
      .filter((id) => !busy.some((b) => b.driver_id === id));
    const vehicles = (await this.#db.selectFrom('vehicles').select(['id', 'max_payload_kg']).where('depot_id', '=', depotId).where('status', '=', 'active').orderBy('id').execute()).filter((v) => !busy.some((b) => b.vehicle_id === v.id));
    const crews = Math.min(drivers.length, vehicles.length);
    if (crews === 0) throw nothing(`Depot ${depotId} has ${drivers.length} free enabled driver(s) and ${vehicles.length} free active vehicle(s) on ${date}; a route needs one of each.`);
    const groups = sweepGroups(depot.location, candidates.map((c) => ({ ...c, id: c.shipmentId })), crews);
    const weight = (group: readonly Candidate[]) => group.reduce((total, c) => total + c.weightKg, 0);
    const byWeight = [...groups].sort((a, b) => weight(b) - weight(a));
    const byPayload = vehicles.slice(0, crews).sort((a, b) => b.max_payload_kg - a.max_payload_kg || (a.id < b.id ? -1 : 1));
    let fallbackReason: RoutingFailure | undefined;
    const planned: { driverId: string; vehicleId: string; candidates: Candidate[]; plan: PlannedRoute }[] = [];
    for (const [i, group] of byWeight.entries()) {
      const outcome = await this.#plan(depotId, group, 'optimise', fallback);
      fallbackReason ??= outcome.fallbackReason;
      planned.push({ driverId: drivers[i] ?? '', vehicleId: byPayload[i]?.id ?? '', candidates: group, plan: outcome.plan });
    }
    const ids = await this.#db.transaction().execute(async (trx) => {
      const out: string[] = [];
      for (const p of planned) out.push(await this.#insertRoute(trx, { depotId, date, ...p }, change, { planned: true, ...(fallbackReason === undefined ? {} : { fallbackReason }) }));
      return out;
    });
    const routes = await Promise.all(ids.map((id) => this.get(id)));
    return { value: routes, ...(fallbackReason === undefined ? {} : { fallbackReason }) };
  }

  /** The pending stops as planner input, in their current order (or `order`, a permutation of their stop ids). */
  #pendingStops(route: RouteDetail, order?: readonly string[]): { stopId: string; stop: PlanStop }[] {
    const pending = route.stops.filter((s) => s.status === 'pending');
    const entries = pending.map((s) => ({ stopId: s.id, stop: { shipmentId: s.shipmentId, trackingNumber: s.trackingNumber, point: s.destination, window: s.window } }));
    if (order === undefined) return entries;
    const wanted = new Set(order);
    if (wanted.size !== order.length || order.length !== pending.length || pending.some((s) => !wanted.has(s.id))) {
      throw invalid(`The new order must list each of the route's ${pending.length} pending stops exactly once.`);
    }
    return order.map((id) => entries.find((e) => e.stopId === id)).filter((e) => e !== undefined);
  }

  /** Writes a new plan for the pending stops (after the visited ones) and bumps the revision, or refuses if the route changed. */
  async #applyPlan(trx: Kysely<Tables>, route: RouteDetail, plan: PlannedRoute): Promise<void> {
    const now = this.#clock.now().toISOString();
    const bumped = await trx
      .updateTable('routes')
      .set({ matrix_provider: plan.provider, total_distance_m: plan.totalDistanceMetres, total_duration_s: plan.totalDurationSeconds, departure_at: plan.startAt, return_at: plan.returnAt, revision: route.revision + 1, updated_at: now })
      .where('id', '=', route.id)
      .where('revision', '=', route.revision)
      .where('status', 'in', [...ACTIVE_ROUTE_STATUSES])
      .executeTakeFirst();
    if (bumped.numUpdatedRows !== 1n) throw notEditable('The route changed meanwhile; reload it and try again.');
    const visited = await trx.selectFrom('route_stops').select('id').where('route_id', '=', route.id).where('status', 'in', ['arrived', 'delivered', 'failed']).orderBy('sequence').execute();
    for (const [i, stop] of visited.entries()) await trx.updateTable('route_stops').set({ sequence: i + 1 }).where('id', '=', stop.id).execute();
    for (const stop of plan.stops) {
      await trx
        .updateTable('route_stops')
        .set({ sequence: visited.length + stop.sequence, leg_distance_m: stop.leg.distanceMetres, leg_duration_s: stop.leg.durationSeconds, planned_eta: stop.serviceStartAt, planned_departure_at: stop.departureAt, lateness_s: stop.latenessSeconds })
        .where('route_id', '=', route.id)
        .where('shipment_id', '=', stop.shipmentId ?? stop.id)
        .where('status', '=', 'pending')
        .execute();
    }
  }

  #editable(route: RouteSummary, needPlanned = false): void {
    if (route.status === 'completed' || route.status === 'cancelled') throw notEditable(`The route is ${route.status}.`);
    if (needPlanned && route.status !== 'planned') throw notEditable('Stops are added, removed and moved only before the route starts.');
  }

  async #reorderWith(routeId: string, mode: OrderMode, order: readonly string[] | undefined, fallback: boolean, change: DeliveryChange): Promise<Planned<RouteDetail>> {
    const route = await this.get(routeId);
    this.#editable(route);
    const stops = this.#pendingStops(route, order);
    const { plan, fallbackReason } = await this.#plan(route.depotId, stops.map((s) => s.stop), mode, fallback);
    await this.#db.transaction().execute(async (trx) => {
      const before = await currentOrder(trx, route.id);
      await this.#applyPlan(trx, route, plan);
      const after = await currentOrder(trx, route.id);
      const now = this.#clock.now().toISOString();
      const kind = mode === 'optimise' ? 'optimised' : 'reordered';
      await recordRouteEvent(trx, { routeId: route.id, kind, change, at: now, before, after, details: { provider: plan.provider, ...(fallbackReason === undefined ? {} : { fallbackReason }) } });
      await auditDelivery(trx, this.#clock, change, mode === 'optimise' ? 'route.optimise' : 'route.reorder', { type: 'route', id: route.id }, { before, after, provider: plan.provider, distanceMetres: Math.round(plan.totalDistanceMetres) });
    });
    return { value: await this.get(route.id), ...(fallbackReason === undefined ? {} : { fallbackReason }) };
  }

  reorder(routeId: string, stopIds: readonly string[], fallback: boolean, change: DeliveryChange): Promise<Planned<RouteDetail>> {
    return this.#reorderWith(routeId, 'keep', stopIds, fallback, change);
  }

  optimise(routeId: string, fallback: boolean, change: DeliveryChange): Promise<Planned<RouteDetail>> {
    return this.#reorderWith(routeId, 'optimise', undefined, fallback, change);
  }

  /** Appends the shipment as the last stop (optimise or reorder afterwards to place it elsewhere). */
  async addStop(routeId: string, shipmentId: string, fallback: boolean, change: DeliveryChange): Promise<Planned<RouteDetail>> {
    const route = await this.get(routeId);
    this.#editable(route, true);
    const [candidate] = await routeCandidates(this.#db, [shipmentId], route.depotId, route.date);
    if (candidate === undefined) throw invalid('No shipment given.');
    const stops = [...(this.#pendingStops(route)).map((s) => s.stop), candidate];
    const { plan, fallbackReason } = await this.#plan(route.depotId, stops, 'keep', fallback);
    await this.#db.transaction().execute(async (trx) => {
      const fresh = await routeCandidates(trx, [shipmentId], route.depotId, route.date);
      const load = await trx.selectFrom('route_stops').innerJoin('shipments', 'shipments.id', 'route_stops.shipment_id').select((eb) => eb.fn.sum<number | string>('shipments.weight_kg').as('kg')).where('route_stops.route_id', '=', route.id).where('route_stops.status', '=', 'pending').executeTakeFirst();
      const vehicle = await trx.selectFrom('vehicles').select('max_payload_kg').where('id', '=', route.vehicleId).executeTakeFirstOrThrow();
      const kg = Number(load?.kg ?? 0) + (fresh[0]?.weightKg ?? 0);
      if (kg > vehicle.max_payload_kg) throw new RampartError('delivery_route.over_capacity', `route ${kg} kg`, { publicDetail: `The parcels would weigh ${Math.round(kg * 10) / 10} kg; vehicle ${route.vehicleId} carries at most ${vehicle.max_payload_kg} kg.` });
      const before = await currentOrder(trx, route.id);
      const now = this.#clock.now().toISOString();
      const last = plan.stops.find((s) => (s.shipmentId ?? s.id) === shipmentId);
      if (last === undefined) throw new Error('planned stop missing');
      const stopId = newId('stp');
      await trx.insertInto('route_stops').values({ ...stopRow(route.id, shipmentId, last.sequence, last, now), id: stopId }).execute();
      await this.#lifecycle.assign(trx, { ...change, shipmentId, driverId: route.driverId });
      await this.#applyPlan(trx, route, plan);
      const after = await currentOrder(trx, route.id);
      await recordRouteEvent(trx, { routeId: route.id, kind: 'stop_added', change, at: now, before, after, details: { stop: stopId, shipment: shipmentId } });
      await auditDelivery(trx, this.#clock, change, 'route.stop_add', { type: 'route', id: route.id }, { stop: stopId, shipment: shipmentId, before, after });
    });
    return { value: await this.get(route.id), ...(fallbackReason === undefined ? {} : { fallbackReason }) };
  }

  #pendingStop(route: RouteDetail, stopId: string) {
    const stop = route.stops.find((s) => s.id === stopId);
    if (stop === undefined) throw new RampartError('delivery_route.stop_not_found', `no stop ${stopId} on route ${route.id}`);
    if (stop.status !== 'pending') throw notEditable(`The stop is ${stop.status}; only pending stops change.`);
    return stop;
  }

  /** Removes a pending stop; its shipment goes back to created (unassigned). */
  async removeStop(routeId: string, stopId: string, fallback: boolean, change: DeliveryChange): Promise<Planned<RouteDetail>> {
    const route = await this.get(routeId);
    this.#editable(route, true);
    const stop = this.#pendingStop(route, stopId);
    const rest = (this.#pendingStops(route)).filter((s) => s.stopId !== stopId).map((s) => s.stop);
    const { plan, fallbackReason } = await this.#plan(route.depotId, rest, 'keep', fallback);
    await this.#db.transaction().execute(async (trx) => {
      const before = await currentOrder(trx, route.id);
      const now = this.#clock.now().toISOString();
      await this.#removeRow(trx, stop.id);
      await this.#lifecycle.unassign(trx, { ...change, shipmentId: stop.shipmentId });
      await this.#applyPlan(trx, route, plan);
      const after = await currentOrder(trx, route.id);
      await recordRouteEvent(trx, { routeId: route.id, kind: 'stop_removed', change, at: now, before, after, details: { stop: stop.id, shipment: stop.shipmentId } });
      await auditDelivery(trx, this.#clock, change, 'route.stop_remove', { type: 'route', id: route.id }, { stop: stop.id, shipment: stop.shipmentId, before, after });
    });
    return { value: await this.get(route.id), ...(fallbackReason === undefined ? {} : { fallbackReason }) };
  }

  async #removeRow(trx: Kysely<Tables>, stopId: string): Promise<void> {
    const removed = await trx.updateTable('route_stops').set({ status: 'removed', finished_at: this.#clock.now().toISOString() }).where('id', '=', stopId).where('status', '=', 'pending').executeTakeFirst();
    if (removed.numUpdatedRows !== 1n) throw notEditable('The stop changed meanwhile; reload the route and try again.');
  }

  /** Moves a pending stop to another planned route of the same depot and date; the shipment is assigned to that route's driver. */
  async moveStop(routeId: string, stopId: string, toRouteId: string, fallback: boolean, change: DeliveryChange): Promise<Planned<{ from: RouteDetail; to: RouteDetail }>> {
    const from = await this.get(routeId);
    this.#editable(from, true);
    const stop = this.#pendingStop(from, stopId);
    const to = await this.get(toRouteId);
    if (to.id === from.id) throw invalid('The stop is already on this route.');
    this.#editable(to, true);
    if (to.depotId !== from.depotId || to.date !== from.date) throw notEditable('A stop moves only to a route of the same depot and date.');
    const fromStops = (this.#pendingStops(from)).filter((s) => s.stopId !== stopId).map((s) => s.stop);
    const moved: PlanStop = { shipmentId: stop.shipmentId, trackingNumber: stop.trackingNumber, point: stop.destination, window: stop.window };
    const toStops = [...(this.#pendingStops(to)).map((s) => s.stop), moved];
    const fromPlan = await this.#plan(from.depotId, fromStops, 'keep', fallback);
    const toPlan = await this.#plan(to.depotId, toStops, 'keep', fallback);
    const fallbackReason = fromPlan.fallbackReason ?? toPlan.fallbackReason;
    await this.#db.transaction().execute(async (trx) => {
      const now = this.#clock.now().toISOString();
      const beforeFrom = await currentOrder(trx, from.id);
      const beforeTo = await currentOrder(trx, to.id);
      await this.#removeRow(trx, stop.id);
      const placed = toPlan.plan.stops.find((s) => (s.shipmentId ?? s.id) === stop.shipmentId);
      if (placed === undefined) throw new Error('planned stop missing');
      const newStopId = newId('stp');
      await trx.insertInto('route_stops').values({ ...stopRow(to.id, stop.shipmentId, placed.sequence, placed, now), id: newStopId }).execute();
      await this.#lifecycle.assign(trx, { ...change, shipmentId: stop.shipmentId, driverId: to.driverId });
      await this.#applyPlan(trx, from, fromPlan.plan);
      await this.#applyPlan(trx, to, toPlan.plan);
      const afterFrom = await currentOrder(trx, from.id);
      const afterTo = await currentOrder(trx, to.id);
      await recordRouteEvent(trx, { routeId: from.id, kind: 'stop_moved', change, at: now, before: beforeFrom, after: afterFrom, details: { stop: stop.id, shipment: stop.shipmentId, toRoute: to.id, toStop: newStopId } });
      await recordRouteEvent(trx, { routeId: to.id, kind: 'stop_added', change, at: now, before: beforeTo, after: afterTo, details: { stop: newStopId, shipment: stop.shipmentId, fromRoute: from.id } });
      await auditDelivery(trx, this.#clock, change, 'route.stop_move', { type: 'route', id: from.id }, { stop: stop.id, shipment: stop.shipmentId, toRoute: to.id, toDriver: to.driverId, fromDriver: from.driverId });
    });
    return { value: { from: await this.get(from.id), to: await this.get(to.id) }, ...(fallbackReason === undefined ? {} : { fallbackReason }) };
  }
}

function stopRow(routeId: string, shipmentId: string, sequence: number, stop: PlannedRoute['stops'][number], now: string) {
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

export type { RouteRow };
