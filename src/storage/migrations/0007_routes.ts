import { sql, type Kysely, type SqlBool } from 'kysely';
import type { ColumnTypes } from './index.ts';

// Delivery routes: one driver, one vehicle, one service date; their ordered
// stops (one per shipment; a shipment is on at most one active stop); the
// history of every change to a route's order; and drone missions.

export const ROUTE_STATUSES = ['planned', 'in_progress', 'completed', 'cancelled'];
export const STOP_STATUSES = ['pending', 'arrived', 'delivered', 'failed', 'removed'];
export const ROUTE_EVENT_KINDS = ['created', 'optimised', 'reordered', 'stop_added', 'stop_removed', 'stop_moved', 'started', 'completed'];

export function routes(types: ColumnTypes) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('routes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('depot_id', 'text', (c) => c.notNull().references('depots.id'))
        .addColumn('driver_id', 'text', (c) => c.notNull().references('accounts.id'))
        .addColumn('vehicle_id', 'text', (c) => c.notNull().references('vehicles.id'))
        // YYYY-MM-DD (UTC).
        .addColumn('service_date', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(types.oneOf('status', ROUTE_STATUSES)))
        // `osrm` or `great-circle`: which distances the plan rests on.
        .addColumn('matrix_provider', 'text', (c) => c.notNull())
        .addColumn('total_distance_m', 'double precision', (c) => c.notNull())
        .addColumn('total_duration_s', 'double precision', (c) => c.notNull())
        .addColumn('departure_at', types.timestamp, (c) => c.notNull())
        .addColumn('return_at', types.timestamp, (c) => c.notNull())
        .addColumn('planned_at', types.timestamp, (c) => c.notNull())
        .addColumn('started_at', types.timestamp)
        .addColumn('completed_at', types.timestamp)
        // Bumped by every change: changes are compare-and-set on it.
        .addColumn('revision', 'integer', (c) => c.notNull())
        .addColumn('updated_at', types.timestamp, (c) => c.notNull())
        .execute();
      const active = sql<SqlBool>`status in ('planned', 'in_progress')`;
      await db.schema.createIndex('routes_driver_date_active').on('routes').columns(['driver_id', 'service_date']).unique().where(active).execute();
      await db.schema.createIndex('routes_vehicle_date_active').on('routes').columns(['vehicle_id', 'service_date']).unique().where(active).execute();
      await db.schema.createIndex('routes_date').on('routes').columns(['service_date', 'id']).execute();
      await db.schema.createIndex('routes_depot').on('routes').columns(['depot_id', 'service_date']).execute();

      await db.schema
        .createTable('route_stops')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('route_id', 'text', (c) => c.notNull().references('routes.id'))
        .addColumn('shipment_id', 'text', (c) => c.notNull().references('shipments.id'))
        // 1…n among the route's stops that are not removed.
        .addColumn('sequence', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(types.oneOf('status', STOP_STATUSES)))
        .addColumn('leg_distance_m', 'double precision', (c) => c.notNull())
        .addColumn('leg_duration_s', 'double precision', (c) => c.notNull())
        // When service is planned to start (arrival, or the window's opening when early).
        .addColumn('planned_eta', types.timestamp, (c) => c.notNull())
        .addColumn('planned_departure_at', types.timestamp, (c) => c.notNull())
        .addColumn('lateness_s', 'double precision', (c) => c.notNull())
        .addColumn('arrived_at', types.timestamp)
        .addColumn('finished_at', types.timestamp)
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('route_stops_route').on('route_stops').columns(['route_id', 'sequence']).execute();
      await db.schema
        .createIndex('route_stops_active_shipment')
        .on('route_stops')
        .column('shipment_id')
        .unique()
        .where(sql<SqlBool>`status in ('pending', 'arrived')`)
        .execute();
      await db.schema.createIndex('route_stops_shipment').on('route_stops').columns(['shipment_id', 'created_at']).execute();

      await db.schema
        .createTable('route_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('route_id', 'text', (c) => c.notNull().references('routes.id'))
        // 1, 2, 3… per route.
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull().check(types.oneOf('kind', ROUTE_EVENT_KINDS)))
        .addColumn('actor_type', 'text', (c) => c.notNull())
        .addColumn('actor_id', 'text')
        .addColumn('at', types.timestamp, (c) => c.notNull())
        // JSON arrays of shipment ids in visiting order; null when the order did not change.
        .addColumn('before_order', 'text')
        .addColumn('after_order', 'text')
        // JSON object: the stop, shipment or other route concerned.
        .addColumn('details', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('route_events_order').on('route_events').columns(['route_id', 'seq']).unique().execute();

      await db.schema
        .createTable('drone_missions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('shipment_id', 'text', (c) => c.notNull().references('shipments.id'))
        .addColumn('drone_id', 'text', (c) => c.notNull().references('drones.id'))
        .addColumn('depot_id', 'text', (c) => c.notNull().references('depots.id'))
        .addColumn('status', 'text', (c) => c.notNull().check(types.oneOf('status', ['planned', 'sent'])))
        // The mission document exactly as planned (encodeDroneMission sends its canonical form).
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('distance_m', 'double precision', (c) => c.notNull())
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addColumn('sent_at', types.timestamp)
        .execute();
      await db.schema.createIndex('drone_missions_shipment').on('drone_missions').columns(['shipment_id', 'created_at']).execute();
    },
  };
}
