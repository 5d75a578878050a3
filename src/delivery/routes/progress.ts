import type { Kysely } from 'kysely';
import type { Clock } from '../../kernel/clock.ts';
import { RampartError } from '../../kernel/errors.ts';
import type { Db } from '../../storage/database.ts';
import type { Tables } from '../../storage/tables.ts';
import { type AuditedChange, recordChange } from '../../audit/append.ts';
import type { ShipmentLifecycle } from '../shipments/lifecycle.ts';
import type { FailureReason } from '../shipments/status.ts';
import { currentOrder, loadRouteRow, recordRouteEvent } from './routes.store.ts';

// A route on the road: the driver starts it (every pending stop's shipment
// goes out for delivery), arrives at stops, records failed attempts; proof of
// delivery marks a stop delivered through markStopDelivered. A route whose
// stops are all visited completes in the same transaction as its last visit.

const notEditable = (why: string) => new RampartError('delivery_route.not_editable', why, { publicDetail: why });

/**
 * Marks the shipment's active route stop delivered and completes its route
 * when no stop is left to visit. Call it inside the transaction that records
 * the delivery (proof of delivery); returns the stop and route, or undefined
 * when the shipment is on no active route (a delivery without a route).
 */
export async function markStopDelivered(trx: Kysely<Tables>, shipmentId: string, at: string): Promise<{ routeId: string; stopId: string; routeCompleted: boolean } | undefined> {
  const stop = await trx.selectFrom('route_stops').select(['id', 'route_id']).where('shipment_id', '=', shipmentId).where('status', 'in', ['pending', 'arrived']).executeTakeFirst();
  if (stop === undefined) return undefined;
  await trx.updateTable('route_stops').set({ status: 'delivered', finished_at: at }).where('id', '=', stop.id).execute();
  const routeCompleted = await completeIfDone(trx, stop.route_id, at, { actor: { type: 'system' } });
  return { routeId: stop.route_id, stopId: stop.id, routeCompleted };
}

/** Completes an in-progress route with no pending or arrived stop left (history entry, no audit of its own: the visit that ended it is audited). */
export async function completeIfDone(trx: Kysely<Tables>, routeId: string, at: string, change: AuditedChange): Promise<boolean> {
  const open = await trx.selectFrom('route_stops').select('id').where('route_id', '=', routeId).where('status', 'in', ['pending', 'arrived']).executeTakeFirst();
  if (open !== undefined) return false;
  const done = await trx.updateTable('routes').set((eb) => ({ status: 'completed', completed_at: at, updated_at: at, revision: eb('revision', '+', 1) })).where('id', '=', routeId).where('status', '=', 'in_progress').executeTakeFirst();
  if (done.numUpdatedRows !== 1n) return false;
  const counts = await trx.selectFrom('route_stops').select(['status']).where('route_id', '=', routeId).execute();
  await recordRouteEvent(trx, { routeId, kind: 'completed', change, at, details: { delivered: counts.filter((c) => c.status === 'delivered').length, failed: counts.filter((c) => c.status === 'failed').length } });
  return true;
}

export class RouteProgress {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #lifecycle: ShipmentLifecycle;

  constructor(options: { db: Db; clock: Clock; lifecycle: ShipmentLifecycle }) {
    this.#db = options.db;
    this.#clock = options.clock;
    this.#lifecycle = options.lifecycle;
  }

  /** planned → in_progress; every pending stop's shipment goes out for delivery, all in one transaction. */
  async start(routeId: string, change: AuditedChange): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      const now = this.#clock.now().toISOString();
      const started = await trx.updateTable('routes').set((eb) => ({ status: 'in_progress', started_at: now, updated_at: now, revision: eb('revision', '+', 1) })).where('id', '=', routeId).where('status', '=', 'planned').executeTakeFirst();
      if (started.numUpdatedRows !== 1n) throw notEditable(`The route is ${(await loadRouteRow(trx, routeId)).status}; only a planned route starts.`);
      const order = await currentOrder(trx, routeId);
      const pending = await trx.selectFrom('route_stops').select('shipment_id').where('route_id', '=', routeId).where('status', '=', 'pending').orderBy('sequence').execute();
      for (const stop of pending) await this.#lifecycle.transition(trx, { ...change, shipmentId: stop.shipment_id, to: 'out_for_delivery' });
      await recordRouteEvent(trx, { routeId, kind: 'started', change, at: now, after: order });
      await recordChange(trx, this.#clock, change, 'route.start', { type: 'route', id: routeId }, { stops: pending.length });
      if (pending.length === 0) await completeIfDone(trx, routeId, now, change);
    });
  }

  async #visit(trx: Kysely<Tables>, routeId: string, stopId: string, from: readonly ('pending' | 'arrived')[]): Promise<{ shipmentId: string }> {
    const route = await loadRouteRow(trx, routeId);
    if (route.status !== 'in_progress') throw notEditable(`The route is ${route.status}; stops are visited once it has started.`);
    const stop = await trx.selectFrom('route_stops').select(['shipment_id', 'status']).where('id', '=', stopId).where('route_id', '=', routeId).executeTakeFirst();
    if (stop === undefined) throw new RampartError('delivery_route.stop_not_found', `no stop ${stopId}`);
    if (!from.includes(stop.status as 'pending')) throw notEditable(`The stop is ${stop.status}.`);
    return { shipmentId: stop.shipment_id };
  }

  async arrive(routeId: string, stopId: string, change: AuditedChange): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      const { shipmentId } = await this.#visit(trx, routeId, stopId, ['pending']);
      const now = this.#clock.now().toISOString();
      await trx.updateTable('route_stops').set({ status: 'arrived', arrived_at: now }).where('id', '=', stopId).where('status', '=', 'pending').execute();
      await recordChange(trx, this.#clock, change, 'route.stop_arrive', { type: 'route', id: routeId }, { stop: stopId, shipment: shipmentId });
    });
  }

  /** A failed attempt: the shipment → failed with the reason (and the note, sealed before this call); the route completes if it was the last stop. */
  async fail(routeId: string, stopId: string, reason: FailureReason, note: string | undefined, change: AuditedChange): Promise<void> {
    const sealed = note === undefined || note.trim() === '' ? undefined : await this.#lifecycle.sealNote(note);
    await this.#db.transaction().execute(async (trx) => {
      const { shipmentId } = await this.#visit(trx, routeId, stopId, ['pending', 'arrived']);
      const now = this.#clock.now().toISOString();
      await trx.updateTable('route_stops').set({ status: 'failed', finished_at: now }).where('id', '=', stopId).execute();
      await this.#lifecycle.transition(trx, { ...change, shipmentId, to: 'failed', reason, note: sealed });
      await recordChange(trx, this.#clock, change, 'route.stop_fail', { type: 'route', id: routeId }, { stop: stopId, shipment: shipmentId, reason });
      await completeIfDone(trx, routeId, now, change);
    });
  }
}

/** Where the tracking page's ETA comes from: the planned service start of the shipment's active stop on an active route. */
export function routeEtaSource(db: Db): (shipmentId: string) => Promise<string | null> {
  return async (shipmentId) => {
    const row = await db
      .selectFrom('route_stops')
      .innerJoin('routes', 'routes.id', 'route_stops.route_id')
      .select('route_stops.planned_eta')
      .where('route_stops.shipment_id', '=', shipmentId)
      .where('route_stops.status', 'in', ['pending', 'arrived'])
      .where('routes.status', 'in', ['planned', 'in_progress'])
      .executeTakeFirst();
    return row?.planned_eta ?? null;
  };
}
