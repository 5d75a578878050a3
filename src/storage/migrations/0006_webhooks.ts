import type { Kysely } from 'kysely';
import type { ColumnTypes } from './index.ts';

// Outbound webhooks. An endpoint's signing secret is a keyring ciphertext
// (purpose `secret`) bound to its row. A delivery is one event for one endpoint:
// written in the transaction of the change it reports, then claimed and sent by
// the dispatcher, which polls pending rows in next-attempt order.

export function webhooks(types: ColumnTypes) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('webhook_endpoints')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        // JSON array of event types the endpoint receives.
        .addColumn('events', 'text', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(types.oneOf('status', ['enabled', 'disabled'])))
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addColumn('updated_at', types.timestamp, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('webhook_endpoints_status').on('webhook_endpoints').columns(['status', 'id']).execute();

      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('endpoint_id', 'text', (c) => c.notNull().references('webhook_endpoints.id').onDelete('cascade'))
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        // The exact body sent (and signed) on every attempt.
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', types.timestamp, (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(types.oneOf('status', ['pending', 'delivered', 'failed'])))
        .addColumn('last_status_code', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('last_attempt_at', types.timestamp)
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addColumn('delivered_at', types.timestamp)
        .execute();
      // What the dispatcher polls: due pending rows, oldest first.
      await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at', 'id']).execute();
      // The delivery log of one endpoint, newest first, optionally by status.
      await db.schema.createIndex('webhook_deliveries_endpoint').on('webhook_deliveries').columns(['endpoint_id', 'created_at', 'id']).execute();
      await db.schema.createIndex('webhook_deliveries_event').on('webhook_deliveries').column('event_id').execute();
    },
  };
}
