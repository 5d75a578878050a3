import { sql, type Kysely } from 'kysely';
import type { ColumnTypes } from './index.ts';

// The hash-chained audit trail. `audit_head` is one row that every append
// updates first: on PostgreSQL its row lock, on SQLite the write lock, makes
// appends strictly sequential so the chain never forks.

export function audit(types: ColumnTypes) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('audit_entries')
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('at', types.timestamp, (c) => c.notNull())
        .addColumn('actor_type', 'text', (c) => c.notNull())
        .addColumn('actor_id', 'text')
        .addColumn('auth_method', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target_type', 'text')
        .addColumn('target_id', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull().check(types.oneOf('outcome', ['success', 'failure', 'denied'])))
        .addColumn('source_ip', 'text')
        .addColumn('user_agent', 'text')
        .addColumn('request_id', 'text')
        .addColumn('details', 'text', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_entries_actor').on('audit_entries').columns(['actor_id', 'seq']).execute();
      await db.schema.createIndex('audit_entries_action').on('audit_entries').columns(['action', 'seq']).execute();
      await db.schema.createIndex('audit_entries_target').on('audit_entries').columns(['target_id', 'seq']).execute();
      await db.schema.createIndex('audit_entries_at').on('audit_entries').column('at').execute();

      await db.schema
        .createTable('audit_head')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('checkpoint_seq', 'bigint', (c) => c.notNull())
        .addColumn('checkpoint_at', types.timestamp, (c) => c.notNull())
        .execute();
      // Seeded here, so the first append never races to create it.
      await sql`insert into audit_head (id, seq, hash, checkpoint_seq, checkpoint_at) values (1, 0, ${'0'.repeat(64)}, 0, ${new Date().toISOString()})`.execute(db);

      await db.schema
        .createTable('audit_checkpoints')
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('head_hash', 'text', (c) => c.notNull())
        .addColumn('at', types.timestamp, (c) => c.notNull())
        .addColumn('kid', 'text', (c) => c.notNull())
        .addColumn('signature', 'text', (c) => c.notNull())
        .execute();
    },
  };
}
