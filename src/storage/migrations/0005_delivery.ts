import type { Kysely } from 'kysely';
import type { ColumnTypes } from './index.ts';

// The delivery domain: depots, the fleet (trucks, drones, drivers) and
// shipments with their status history. Recipient name, phone and address and
// event notes are keyring ciphertexts (purpose `personal`) bound to their row;
// the tracking token is stored only as its SHA-256.

const SHIPMENT_STATUSES = ['created', 'assigned', 'out_for_delivery', 'delivered', 'failed', 'returned'];
const FAILURE_REASONS = ['recipient_absent', 'address_not_found', 'refused', 'damaged', 'access_denied', 'weather', 'other'];

export function delivery(types: ColumnTypes) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('depots')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('lat', 'double precision', (c) => c.notNull())
        .addColumn('lon', 'double precision', (c) => c.notNull())
        // GeoJSON Polygon (JSON text); null until the area is drawn.
        .addColumn('service_area', 'text')
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addColumn('updated_at', types.timestamp, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('vehicles')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('depot_id', 'text', (c) => c.notNull().references('depots.id'))
        // The truck's telematics device (kind `truck`, same depot), checked by the fleet service.
        .addColumn('device_id', 'text', (c) => c.references('devices.id').unique())
        .addColumn('plate', 'text')
        .addColumn('max_payload_kg', 'double precision', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(types.oneOf('status', ['active', 'inactive'])))
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addColumn('updated_at', types.timestamp, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('vehicles_depot').on('vehicles').columns(['depot_id', 'id']).execute();

      await db.schema
        .createTable('drones')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('depot_id', 'text', (c) => c.notNull().references('depots.id'))
        // The drone's own device (kind `drone`, same depot).
        .addColumn('device_id', 'text', (c) => c.references('devices.id').unique())
        .addColumn('max_range_km', 'double precision', (c) => c.notNull())
        .addColumn('max_payload_kg', 'double precision', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(types.oneOf('status', ['active', 'inactive'])))
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addColumn('updated_at', types.timestamp, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('drones_depot').on('drones').columns(['depot_id', 'id']).execute();

      await db.schema
        .createTable('driver_profiles')
        .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id'))
        .addColumn('home_depot_id', 'text', (c) => c.notNull().references('depots.id'))
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addColumn('updated_at', types.timestamp, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('driver_profiles_depot').on('driver_profiles').columns(['home_depot_id', 'account_id']).execute();

      await db.schema
        .createTable('shipments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tracking_number', 'text', (c) => c.notNull().unique())
        // The sender's own reference (an order number), unique when given, so a file imported twice is refused.
        .addColumn('reference', 'text', (c) => c.unique())
        .addColumn('depot_id', 'text', (c) => c.notNull().references('depots.id'))
        .addColumn('recipient_name', 'text', (c) => c.notNull())
        .addColumn('recipient_phone', 'text')
        .addColumn('recipient_address', 'text', (c) => c.notNull())
        .addColumn('dest_lat', 'double precision', (c) => c.notNull())
        .addColumn('dest_lon', 'double precision', (c) => c.notNull())
        .addColumn('weight_kg', 'double precision', (c) => c.notNull())
        .addColumn('length_cm', 'double precision')
        .addColumn('width_cm', 'double precision')
        .addColumn('height_cm', 'double precision')
        .addColumn('mode', 'text', (c) => c.notNull().check(types.oneOf('mode', ['truck', 'drone'])))
        .addColumn('window_start', types.timestamp, (c) => c.notNull())
        .addColumn('window_end', types.timestamp, (c) => c.notNull())
        // JSON array, a non-empty subset of signature, photo, pin.
        .addColumn('required_proof', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(types.oneOf('status', SHIPMENT_STATUSES)))
        .addColumn('failure_reason', 'text', (c) => c.check(types.oneOf('failure_reason', FAILURE_REASONS)))
        .addColumn('assigned_driver_id', 'text', (c) => c.references('accounts.id'))
        .addColumn('tracking_token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('last_event_at', types.timestamp, (c) => c.notNull())
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addColumn('updated_at', types.timestamp, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('shipments_depot_status').on('shipments').columns(['depot_id', 'status', 'created_at']).execute();
      await db.schema.createIndex('shipments_driver').on('shipments').columns(['assigned_driver_id', 'status']).execute();
      await db.schema.createIndex('shipments_created').on('shipments').columns(['created_at', 'id']).execute();
      await db.schema.createIndex('shipments_window').on('shipments').columns(['window_start', 'id']).execute();

      await db.schema
        .createTable('shipment_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('shipment_id', 'text', (c) => c.notNull().references('shipments.id'))
        // 1, 2, 3… per shipment: the history's order, independent of clock resolution.
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('from_status', 'text')
        .addColumn('to_status', 'text', (c) => c.notNull().check(types.oneOf('to_status', SHIPMENT_STATUSES)))
        .addColumn('reason', 'text', (c) => c.check(types.oneOf('reason', FAILURE_REASONS)))
        // Keyring ciphertext: free text may name people.
        .addColumn('note', 'text')
        .addColumn('driver_id', 'text')
        .addColumn('actor_type', 'text', (c) => c.notNull())
        .addColumn('actor_id', 'text')
        .addColumn('at', types.timestamp, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('shipment_events_order').on('shipment_events').columns(['shipment_id', 'seq']).unique().execute();
    },
  };
}
