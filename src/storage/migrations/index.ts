import { sql, type Expression, type SqlBool } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';
import { postgresColumnTypes } from '../postgres/column-types.ts';
import { sqliteColumnTypes } from '../sqlite/column-types.ts';
import { foundation } from './0001_foundation.ts';
import { identity } from './0002_identity.ts';
import { audit } from './0003_audit.ts';
import { devices } from './0004_devices.ts';
import { delivery } from './0005_delivery.ts';
import { webhooks } from './0006_webhooks.ts';
import { routes } from './0007_routes.ts';
import { proofs } from './0008_proofs.ts';

export type Dialect = 'sqlite' | 'postgres';

/** The column types that differ between dialects (declared by each adapter), plus shared helpers. */
export interface ColumnTypes {
  readonly timestamp: 'text' | 'timestamptz';
  oneOf(column: string, values: readonly string[]): Expression<SqlBool>;
  column(name: string): Expression<unknown>;
}

export function columnTypes(dialect: Dialect): ColumnTypes {
  return {
    timestamp: (dialect === 'sqlite' ? sqliteColumnTypes : postgresColumnTypes).timestamp,
    oneOf: (column, values) => sql<SqlBool>`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`,
    column: (name) => sql.ref(name),
  };
}

/** One migration set for both dialects, applied in name order. */
export function migrationProvider(dialect: Dialect): MigrationProvider {
  const types = columnTypes(dialect);
  const migrations: Record<string, Migration> = {
    '0001_foundation': foundation(types),
    '0002_identity': identity(types),
    '0003_audit': audit(types),
    '0004_devices': devices(types),
    '0005_delivery': delivery(types),
    '0006_webhooks': webhooks(types),
    '0007_routes': routes(types),
    '0008_proofs': proofs(types),
  };
  return { getMigrations: () => Promise.resolve(migrations) };
}
