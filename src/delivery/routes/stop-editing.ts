import type { Kysely } from 'kysely';
import { recordChange, type AuditedChange } from '../../audit/append.ts';
import { RampartError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { Tables } from '../../storage/tables.ts';
import { invalid } from '../checks.ts';
import type { PlannedRoute } from '../planning/index.ts';
import type { OrderMode, PlanStop } from './plan.ts';
import { ACTIVE_ROUTE_STATUSES, currentOrder, loadRouteDetail, recordRouteEvent, type RouteDetail, type RouteSummary } from './routes.store.ts';
import { RouteChanges, routeCandidates, stopRow, type Planned } from './stops.ts';

// Changing a route's stops: reorder, optimise, add, remove, move. Each change
// plans before its transaction (no network inside one), then commits the new
// order, ETAs and totals, the route's history and an audit entry together,
// compare-and-set on the route's revision so a concurrent change is refused.
// Stops are added, removed and moved only while the route is planned: once
// started, its parcels are on the road and leave it through a delivery, a
// failed attempt or a return.

const notEditable = (why: string) => new RampartError('delivery_route.not_editable', why, { publicDetail: why });

export class StopEditing extends RouteChanges {
  #get(id: string): Promise<RouteDetail> {
    return loadRouteDetail(this.db, id);
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
    const now = this.clock.now().toISOString();
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

  async #reorderWith(routeId: string, mode: OrderMode, order: readonly string[] | undefined, fallback: boolean, change: AuditedChange, expectedRevision?: number): Promise<Planned<RouteDetail>> {
    const route = await this.#get(routeId);
    this.#editable(route);
    // The revision the caller saw; #applyPlan then compares-and-sets against this same one.
    if (expectedRevision !== undefined && expectedRevision !== route.revision) throw notEditable(`The route changed meanwhile (revision ${expectedRevision} was shown, it is now ${route.revision}); reload it and try again.`);
    const stops = this.#pendingStops(route, order);
    const { plan, fallbackReason } = await this.plan(route.depotId, stops.map((s) => s.stop), mode, fallback);
    await this.db.transaction().execute(async (trx) => {
      const before = await currentOrder(trx, route.id);
      await this.#applyPlan(trx, route, plan);
      const after = await currentOrder(trx, route.id);
      const now = this.clock.now().toISOString();
      const kind = mode === 'optimise' ? 'optimised' : 'reordered';
      await recordRouteEvent(trx, { routeId: route.id, kind, change, at: now, before, after, details: { provider: plan.provider, ...(fallbackReason === undefined ? {} : { fallbackReason }) } });
      await recordChange(trx, this.clock, change, mode === 'optimise' ? 'route.optimise' : 'route.reorder', { type: 'route', id: route.id }, { before, after, provider: plan.provider, distanceMetres: Math.round(plan.totalDistanceMetres) });
    });
    return { value: await this.#get(route.id), ...(fallbackReason === undefined ? {} : { fallbackReason }) };
  }

  reorder(routeId: string, stopIds: readonly string[], fallback: boolean, change: AuditedChange, expectedRevision?: number): Promise<Planned<RouteDetail>> {
    return this.#reorderWith(routeId, 'keep', stopIds, fallback, change, expectedRevision);
  }

  optimise(routeId: string, fallback: boolean, change: AuditedChange): Promise<Planned<RouteDetail>> {
    return this.#reorderWith(routeId, 'optimise', undefined, fallback, change);
  }

  /** Appends the shipment as the last stop (optimise or reorder afterwards to place it elsewhere). */
  async addStop(routeId: string, shipmentId: string, fallback: boolean, change: AuditedChange): Promise<Planned<RouteDetail>> {
    const route = await this.#get(routeId);
    this.#editable(route, true);
    const [candidate] = await routeCandidates(this.db, [shipmentId], route.depotId, route.date);
    if (candidate === undefined) throw invalid('No shipment given.');
    const stops = [...(this.#pendingStops(route)).map((s) => s.stop), candidate];
    const { plan, fallbackReason } = await this.plan(route.depotId, stops, 'keep', fallback);
    await this.db.transaction().execute(async (trx) => {
      const fresh = await routeCandidates(trx, [shipmentId], route.depotId, route.date);
      const load = await trx.selectFrom('route_stops').innerJoin('shipments', 'shipments.id', 'route_stops.shipment_id').select((eb) => eb.fn.sum<number | string>('shipments.weight_kg').as('kg')).where('route_stops.route_id', '=', route.id).where('route_stops.status', '=', 'pending').executeTakeFirst();
      const vehicle = await trx.selectFrom('vehicles').select('max_payload_kg').where('id', '=', route.vehicleId).executeTakeFirstOrThrow();
      const kg = Number(load?.kg ?? 0) + (fresh[0]?.weightKg ?? 0);
      if (kg > vehicle.max_payload_kg) throw new RampartError('delivery_route.over_capacity', `route ${kg} kg`, { publicDetail: `The parcels would weigh ${Math.round(kg * 10) / 10} kg; vehicle ${route.vehicleId} carries at most ${vehicle.max_payload_kg} kg.` });
      const before = await currentOrder(trx, route.id);
      const now = this.clock.now().toISOString();
      const last = plan.stops.find((s) => (s.shipmentId ?? s.id) === shipmentId);
      if (last === undefined) throw new Error('planned stop missing');
      const stopId = newId('stp');
      await trx.insertInto('route_stops').values({ ...stopRow(route.id, shipmentId, last.sequence, last, now), id: stopId }).execute();
      await this.lifecycle.assign(trx, { ...change, shipmentId, driverId: route.driverId });
      await this.#applyPlan(trx, route, plan);
      const after = await currentOrder(trx, route.id);
      await recordRouteEvent(trx, { routeId: route.id, kind: 'stop_added', change, at: now, before, after, details: { stop: stopId, shipment: shipmentId } });
      await recordChange(trx, this.clock, change, 'route.stop_add', { type: 'route', id: route.id }, { stop: stopId, shipment: shipmentId, before, after });
    });
    return { value: await this.#get(route.id), ...(fallbackReason === undefined ? {} : { fallbackReason }) };
  }

  #pendingStop(route: RouteDetail, stopId: string) {
    const stop = route.stops.find((s) => s.id === stopId);
    if (stop === undefined) throw new RampartError('delivery_route.stop_not_found', `no stop ${stopId} on route ${route.id}`);
    if (stop.status !== 'pending') throw notEditable(`The stop is ${stop.status}; only pending stops change.`);
    return stop;
  }

  /** Removes a pending stop; its shipment goes back to created (unassigned). */
  async removeStop(routeId: string, stopId: string, fallback: boolean, change: AuditedChange): Promise<Planned<RouteDetail>> {
    const route = await this.#get(routeId);
    this.#editable(route, true);
    const stop = this.#pendingStop(route, stopId);
    const rest = (this.#pendingStops(route)).filter((s) => s.stopId !== stopId).map((s) => s.stop);
    const { plan, fallbackReason } = await this.plan(route.depotId, rest, 'keep', fallback);
    await this.db.transaction().execute(async (trx) => {
      const before = await currentOrder(trx, route.id);
      const now = this.clock.now().toISOString();
      await this.#removeRow(trx, stop.id);
      await this.lifecycle.unassign(trx, { ...change, shipmentId: stop.shipmentId });
      await this.#applyPlan(trx, route, plan);
      const after = await currentOrder(trx, route.id);
      await recordRouteEvent(trx, { routeId: route.id, kind: 'stop_removed', change, at: now, before, after, details: { stop: stop.id, shipment: stop.shipmentId } });
      await recordChange(trx, this.clock, change, 'route.stop_remove', { type: 'route', id: route.id }, { stop: stop.id, shipment: stop.shipmentId, before, after });
    });
    return { value: await this.#get(route.id), ...(fallbackReason === undefined ? {} : { fallbackReason }) };
  }

  async #removeRow(trx: Kysely<Tables>, stopId: string): Promise<void> {
    const removed = await trx.updateTable('route_stops').set({ status: 'removed', finished_at: this.clock.now().toISOString() }).where('id', '=', stopId).where('status', '=', 'pending').executeTakeFirst();
    if (removed.numUpdatedRows !== 1n) throw notEditable('The stop changed meanwhile; reload the route and try again.');
  }

  /** Moves a pending stop to another planned route of the same depot and date; the shipment is assigned to that route's driver. */
  async moveStop(routeId: string, stopId: string, toRouteId: string, fallback: boolean, change: AuditedChange): Promise<Planned<{ from: RouteDetail; to: RouteDetail }>> {
    const from = await this.#get(routeId);
    this.#editable(from, true);
    const stop = this.#pendingStop(from, stopId);
    const to = await this.#get(toRouteId);
    if (to.id === from.id) throw invalid('The stop is already on this route.');
    this.#editable(to, true);
    if (to.depotId !== from.depotId || to.date !== from.date) throw notEditable('A stop moves only to a route of the same depot and date.');
    const fromStops = (this.#pendingStops(from)).filter((s) => s.stopId !== stopId).map((s) => s.stop);
    const moved: PlanStop = { shipmentId: stop.shipmentId, trackingNumber: stop.trackingNumber, point: stop.destination, window: stop.window };
    const toStops = [...(this.#pendingStops(to)).map((s) => s.stop), moved];
    const fromPlan = await this.plan(from.depotId, fromStops, 'keep', fallback);
    const toPlan = await this.plan(to.depotId, toStops, 'keep', fallback);
    const fallbackReason = fromPlan.fallbackReason ?? toPlan.fallbackReason;
    await this.db.transaction().execute(async (trx) => {
      const now = this.clock.now().toISOString();
      const beforeFrom = await currentOrder(trx, from.id);
      const beforeTo = await currentOrder(trx, to.id);
      await this.#removeRow(trx, stop.id);
      const placed = toPlan.plan.stops.find((s) => (s.shipmentId ?? s.id) === stop.shipmentId);
      if (placed === undefined) throw new Error('planned stop missing');
      const newStopId = newId('stp');
      await trx.insertInto('route_stops').values({ ...stopRow(to.id, stop.shipmentId, placed.sequence, placed, now), id: newStopId }).execute();
      await this.lifecycle.assign(trx, { ...change, shipmentId: stop.shipmentId, driverId: to.driverId });
      await this.#applyPlan(trx, from, fromPlan.plan);
      await this.#applyPlan(trx, to, toPlan.plan);
      const afterFrom = await currentOrder(trx, from.id);
      const afterTo = await currentOrder(trx, to.id);
      await recordRouteEvent(trx, { routeId: from.id, kind: 'stop_moved', change, at: now, before: beforeFrom, after: afterFrom, details: { stop: stop.id, shipment: stop.shipmentId, toRoute: to.id, toStop: newStopId } });
      await recordRouteEvent(trx, { routeId: to.id, kind: 'stop_added', change, at: now, before: beforeTo, after: afterTo, details: { stop: newStopId, shipment: stop.shipmentId, fromRoute: from.id } });
      await recordChange(trx, this.clock, change, 'route.stop_move', { type: 'route', id: from.id }, { stop: stop.id, shipment: stop.shipmentId, toRoute: to.id, toDriver: to.driverId, fromDriver: from.driverId });
    });
    return { value: { from: await this.#get(from.id), to: await this.#get(to.id) }, ...(fallbackReason === undefined ? {} : { fallbackReason }) };
  }
}
