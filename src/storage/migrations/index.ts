import { sql, type Expression, type SqlBool } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';
import { foundation } from './0001_foundation.ts';

export type Dialect = 'sqlite' | 'postgres';

/** The few column types that differ between the dialects; everything else is shared. */
export interface ColumnTypes {
  readonly timestamp: 'text' | 'timestamptz';
  oneOf(column: string, values: readonly string[]): Expression<SqlBool>;
  column(name: string): Expression<unknown>;
}

export function columnTypes(dialect: Dialect): ColumnTypes {
  return {
    timestamp: dialect === 'sqlite' ? 'text' : 'timestamptz',
    oneOf: (column, values) => sql<SqlBool>`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`,
    column: (name) => sql.ref(name),
  };
}

/** One migration set for both dialects, applied in name order. */
export function migrationProvider(dialect: Dialect): MigrationProvider {
  const types = columnTypes(dialect);
  const migrations: Record<string, Migration> = {
    '0001_foundation': foundation(types),
  };
  return { getMigrations: () => Promise.resolve(migrations) };
}
