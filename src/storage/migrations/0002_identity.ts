import type { Kysely } from 'kysely';
import type { ColumnTypes } from './index.ts';

// Identity and access: passwords, second factors, sessions, throttling,
// single sign-on requests and service principals.

export function identity(types: ColumnTypes) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('accounts').addColumn('password_hash', 'text').execute();
      await db.schema.alterTable('accounts').addColumn('password_changed_at', types.timestamp).execute();
      // Set after too many consecutive failures (NIST SP 800-63B-4 §3.2.2): only an administrator's reset clears it.
      await db.schema.alterTable('accounts').addColumn('password_disabled_at', types.timestamp).execute();
      // JSON array of depot ids a dispatcher is limited to; null means every depot.
      await db.schema.alterTable('accounts').addColumn('depot_scope', 'text').execute();
      // `<issuer> <subject>` of the SSO identity linked to this account.
      await db.schema.alterTable('accounts').addColumn('sso_subject', 'text').execute();
      await db.schema.createIndex('accounts_sso_subject').on('accounts').column('sso_subject').unique().execute();

      await db.schema
        .createTable('totp_factors')
        .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('last_used_step', 'bigint')
        .addColumn('confirmed_at', types.timestamp)
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('recovery_codes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('code_hash', 'text', (c) => c.notNull().unique())
        .addColumn('used_at', types.timestamp)
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('recovery_codes_account').on('recovery_codes').column('account_id').execute();

      await db.schema
        .createTable('passkeys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('sign_count', 'bigint', (c) => c.notNull())
        .addColumn('transports', 'text', (c) => c.notNull())
        .addColumn('device_type', 'text', (c) => c.notNull())
        .addColumn('backed_up', 'integer', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addColumn('last_used_at', types.timestamp)
        .execute();
      await db.schema.createIndex('passkeys_account').on('passkeys').column('account_id').execute();

      await db.schema
        .createTable('sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('stage', 'text', (c) => c.notNull().check(types.oneOf('stage', ['mfa', 'enrol', 'active'])))
        .addColumn('auth_method', 'text', (c) => c.notNull())
        .addColumn('mfa_at', types.timestamp)
        .addColumn('mfa_method', 'text')
        .addColumn('challenge', 'text')
        .addColumn('challenge_expires_at', types.timestamp)
        .addColumn('source_ip', 'text', (c) => c.notNull())
        .addColumn('user_agent', 'text', (c) => c.notNull())
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addColumn('last_seen_at', types.timestamp, (c) => c.notNull())
        .addColumn('expires_at', types.timestamp, (c) => c.notNull())
        .addColumn('ended_at', types.timestamp)
        .addColumn('end_reason', 'text')
        .execute();
      await db.schema.createIndex('sessions_account').on('sessions').column('account_id').execute();

      await db.schema
        .createTable('login_throttle')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addColumn('locked_until', types.timestamp)
        .addColumn('updated_at', types.timestamp, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('sso_requests')
        .addColumn('state_hash', 'text', (c) => c.primaryKey())
        .addColumn('nonce', 'text', (c) => c.notNull())
        .addColumn('code_verifier', 'text', (c) => c.notNull())
        .addColumn('expires_at', types.timestamp, (c) => c.notNull())
        .addColumn('used_at', types.timestamp)
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('service_principals')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('client_id', 'text', (c) => c.notNull().unique())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(types.oneOf('status', ['active', 'disabled'])))
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addColumn('updated_at', types.timestamp, (c) => c.notNull())
        .execute();
    },
  };
}
