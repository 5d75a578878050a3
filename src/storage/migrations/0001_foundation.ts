import type { Kysely } from 'kysely';
import type { ColumnTypes } from './index.ts';

export function foundation(types: ColumnTypes) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('keyring_state')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('kek_fingerprint', 'text', (c) => c.notNull())
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('data_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(types.oneOf('status', ['active', 'retiring', 'retired'])))
        .addColumn('wrapped_key', 'text')
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addColumn('retired_at', types.timestamp)
        .execute();
      // At most one active key per purpose, enforced by the database itself.
      await db.schema.createIndex('data_keys_one_active').on('data_keys').column('purpose').unique().where(types.column('status'), '=', 'active').execute();

      await db.schema
        .createTable('signing_keys')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('alg', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(types.oneOf('status', ['active', 'verify_only'])))
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('wrapped_private_key', 'text', (c) => c.notNull())
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addColumn('rotated_at', types.timestamp)
        .execute();
      await db.schema.createIndex('signing_keys_one_active').on('signing_keys').column('purpose').unique().where(types.column('status'), '=', 'active').execute();

      await db.schema
        .createTable('accounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('role', 'text', (c) => c.notNull().check(types.oneOf('role', ['admin', 'dispatcher', 'driver', 'auditor'])))
        .addColumn('status', 'text', (c) => c.notNull().check(types.oneOf('status', ['setup_required', 'active', 'disabled'])))
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addColumn('updated_at', types.timestamp, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('setup_codes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('code_hash', 'text', (c) => c.notNull().unique())
        .addColumn('expires_at', types.timestamp, (c) => c.notNull())
        .addColumn('used_at', types.timestamp)
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('setup_codes_account').on('setup_codes').column('account_id').execute();
    },
  };
}
