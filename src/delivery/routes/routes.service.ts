import type { AuditedChange } from '../../audit/append.ts';
import type { Db } from '../../storage/database.ts';
import { decodeCursor, encodeCursor, valueAndId } from '../../storage/listing.ts';
import { RouteCreation, type NewRoute } from './route-creation.ts';
import { loadRouteDetail, loadRouteRow, routeHistory, routeView, type RouteDetail, type RouteEventView, type RouteSummary } from './routes.store.ts';
import { StopEditing } from './stop-editing.ts';
import type { Planned, RouteServiceOptions } from './stops.ts';

// Routes for dispatchers, one service for the API and the CLI: reading routes
// here, making them in route-creation.ts, changing their stops in
// stop-editing.ts.

export type { NewRoute } from './route-creation.ts';
export type { Planned, RouteServiceOptions } from './stops.ts';

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

export class RouteService {
  readonly #db: Db;
  readonly #creation: RouteCreation;
  readonly #editing: StopEditing;

  constructor(options: RouteServiceOptions) {
    this.#db = options.db;
    this.#creation = new RouteCreation(options);
    this.#editing = new StopEditing(options);
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
      const { value, id } = decodeCursor(query.cursor, valueAndId);
      select = select.where((eb) => eb.or([eb('service_date', '<', String(value)), eb.and([eb('service_date', '=', String(value)), eb('id', '<', id)])]));
    }
    const rows = await select.execute();
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return { items: page.map(routeView), nextCursor: rows.length > query.limit && last !== undefined ? encodeCursor([last.service_date, last.id]) : null };
  }

  create(input: NewRoute, change: AuditedChange): Promise<Planned<RouteDetail>> {
    return this.#creation.create(input, change);
  }

  /** Plans a depot's day (see RouteCreation.planDepot). */
  planDepot(depotId: string, date: string, fallback: boolean, change: AuditedChange): Promise<Planned<RouteDetail[]>> {
    return this.#creation.planDepot(depotId, date, fallback, change);
  }

  reorder(routeId: string, stopIds: readonly string[], fallback: boolean, change: AuditedChange, expectedRevision?: number): Promise<Planned<RouteDetail>> {
    return this.#editing.reorder(routeId, stopIds, fallback, change, expectedRevision);
  }

  optimise(routeId: string, fallback: boolean, change: AuditedChange): Promise<Planned<RouteDetail>> {
    return this.#editing.optimise(routeId, fallback, change);
  }

  addStop(routeId: string, shipmentId: string, fallback: boolean, change: AuditedChange): Promise<Planned<RouteDetail>> {
    return this.#editing.addStop(routeId, shipmentId, fallback, change);
  }

  removeStop(routeId: string, stopId: string, fallback: boolean, change: AuditedChange): Promise<Planned<RouteDetail>> {
    return this.#editing.removeStop(routeId, stopId, fallback, change);
  }

  moveStop(routeId: string, stopId: string, toRouteId: string, fallback: boolean, change: AuditedChange): Promise<Planned<{ from: RouteDetail; to: RouteDetail }>> {
    return this.#editing.moveStop(routeId, stopId, toRouteId, fallback, change);
  }
}
