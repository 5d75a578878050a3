import type { Kysely } from 'kysely';
import type { ColumnTypes } from './index.ts';

// The device registry. Keys are keyring ciphertexts (purpose `secret`) bound to
// the row; `revision` moves on every change that affects authentication, so
// caches of decrypted keys know when to let go.

export function devices(types: ColumnTypes) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('devices')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull().check(types.oneOf('kind', ['drone', 'truck'])))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('depot', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(types.oneOf('status', ['enabled', 'disabled'])))
        .addColumn('primary_key', 'text', (c) => c.notNull())
        .addColumn('secondary_key', 'text', (c) => c.notNull())
        .addColumn('thumbprints', 'text', (c) => c.notNull())
        .addColumn('revision', 'bigint', (c) => c.notNull())
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addColumn('updated_at', types.timestamp, (c) => c.notNull())
        .addColumn('last_seen_at', types.timestamp)
        .execute();
      await db.schema.createIndex('devices_depot').on('devices').columns(['depot', 'id']).execute();
    },
  };
}
