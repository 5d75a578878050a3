import type { Kysely } from 'kysely';
import { recordChange, type AuditedChange } from '../../audit/append.ts';
import { RampartError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { Tables } from '../../storage/tables.ts';
import { loadDepot } from '../depots/depots.service.ts';
import { checkDriverFor, loadDriver, plannableDriverStatus } from '../fleet/fleet.service.ts';
import type { PlannedRoute, RoutingFailure } from '../planning/index.ts';
import { ACTIVE_ROUTE_STATUSES, loadRouteDetail, recordRouteEvent, type RouteDetail } from './routes.store.ts';
import { RouteChanges, routeCandidates, stopRow, type Candidate, type Planned } from './stops.ts';
import { sweepGroups } from './sweep.ts';

// Making routes: one for a driver and vehicle from the shipments given, or a
// depot's whole day at once. The shipments are assigned through the lifecycle
// in the transaction that inserts the route, its stops, its history and its
// audit entry; the driver, vehicle and load are checked again inside it.

export interface NewRoute {
  readonly driverId: string;
  readonly vehicleId: string;
  readonly date: string;
  readonly shipmentIds: readonly string[];
  readonly optimise: boolean;
  readonly fallback: boolean;
}

export class RouteCreation extends RouteChanges {
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
  async #insertRoute(trx: Kysely<Tables>, input: { depotId: string; driverId: string; vehicleId: string; date: string; candidates: Candidate[]; plan: PlannedRoute }, change: AuditedChange, extra: Record<string, string | number | boolean>): Promise<string> {
    const fresh = await routeCandidates(trx, input.candidates.map((c) => c.shipmentId), input.depotId, input.date);
    await this.#checkResources(trx, input.depotId, input.driverId, input.vehicleId, input.date, fresh.reduce((total, c) => total + c.weightKg, 0));
    const now = this.clock.now().toISOString();
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
      await this.lifecycle.assign(trx, { ...change, shipmentId: stop.shipmentId ?? stop.id, driverId: input.driverId });
    }
    const order = plan.stops.map((s) => s.shipmentId ?? s.id);
    await recordRouteEvent(trx, { routeId: id, kind: 'created', change, at: now, after: order, details: { provider: plan.provider, ...extra } });
    await recordChange(trx, this.clock, change, 'route.create', { type: 'route', id }, {
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

  async create(input: NewRoute, change: AuditedChange): Promise<Planned<RouteDetail>> {
    const driver = await loadDriver(this.db, input.driverId);
    const depotId = driver.homeDepotId;
    const candidates = await routeCandidates(this.db, input.shipmentIds, depotId, input.date);
    const { plan, fallbackReason } = await this.plan(depotId, candidates, input.optimise ? 'optimise' : 'keep', input.fallback);
    const id = await this.db.transaction().execute((trx) =>
      this.#insertRoute(trx, { depotId, driverId: input.driverId, vehicleId: input.vehicleId, date: input.date, candidates, plan }, change, { optimised: input.optimise, ...(fallbackReason === undefined ? {} : { fallbackReason }) }),
    );
    return { value: await loadRouteDetail(this.db, id), ...(fallbackReason === undefined ? {} : { fallbackReason }) };
  }

  /**
   * Plans a depot's day: its unassigned truck shipments with windows on `date`
   * are shared among its enabled drivers (active or still awaiting their own
   * setup) that have no route that day, each paired with an active vehicle
   * that has none either (both by id), by the sweep in sweep.ts; each group is optimised; heavier groups get the
   * vehicles with the larger payload. All routes commit in one transaction.
   */
  async planDepot(depotId: string, date: string, fallback: boolean, change: AuditedChange): Promise<Planned<RouteDetail[]>> {
    const depot = await loadDepot(this.db, depotId);
    const nothing = (why: string) => new RampartError('delivery_route.nothing_to_plan', why, { publicDetail: why });
    const dayStart = `${date}T00:00:00.000Z`;
    const dayEnd = new Date(Date.parse(dayStart) + 86_400_000).toISOString();
    const waiting = await this.db
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
    const candidates = await routeCandidates(this.db, waiting.map((w) => w.id), depotId, date);
    if (candidates.length === 0) throw nothing(`Depot ${depotId} has no unassigned truck shipments with windows on ${date}.`);
    const busy = await this.db.selectFrom('routes').select(['driver_id', 'vehicle_id']).where('service_date', '=', date).where('status', 'in', [...ACTIVE_ROUTE_STATUSES]).execute();
    const drivers = (
      await this.db
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
    const vehicles = (await this.db.selectFrom('vehicles').select(['id', 'max_payload_kg']).where('depot_id', '=', depotId).where('status', '=', 'active').orderBy('id').execute()).filter((v) => !busy.some((b) => b.vehicle_id === v.id));
    const crews = Math.min(drivers.length, vehicles.length);
    if (crews === 0) throw nothing(`Depot ${depotId} has ${drivers.length} free enabled driver(s) and ${vehicles.length} free active vehicle(s) on ${date}; a route needs one of each.`);
    const groups = sweepGroups(depot.location, candidates.map((c) => ({ ...c, id: c.shipmentId })), crews);
    const weight = (group: readonly Candidate[]) => group.reduce((total, c) => total + c.weightKg, 0);
    const byWeight = [...groups].sort((a, b) => weight(b) - weight(a));
    const byPayload = vehicles.slice(0, crews).sort((a, b) => b.max_payload_kg - a.max_payload_kg || (a.id < b.id ? -1 : 1));
    let fallbackReason: RoutingFailure | undefined;
    const planned: { driverId: string; vehicleId: string; candidates: Candidate[]; plan: PlannedRoute }[] = [];
    for (const [i, group] of byWeight.entries()) {
      const outcome = await this.plan(depotId, group, 'optimise', fallback);
      fallbackReason ??= outcome.fallbackReason;
      planned.push({ driverId: drivers[i] ?? '', vehicleId: byPayload[i]?.id ?? '', candidates: group, plan: outcome.plan });
    }
    const ids = await this.db.transaction().execute(async (trx) => {
      const out: string[] = [];
      for (const p of planned) out.push(await this.#insertRoute(trx, { depotId, date, ...p }, change, { planned: true, ...(fallbackReason === undefined ? {} : { fallbackReason }) }));
      return out;
    });
    const routes = await Promise.all(ids.map((id) => loadRouteDetail(this.db, id)));
    return { value: routes, ...(fallbackReason === undefined ? {} : { fallbackReason }) };
  }
}
