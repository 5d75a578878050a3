import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import type { Logger } from '../../kernel/logger.ts';
import type { Tables } from '../tables.ts';

export interface PostgresOptions {
  readonly url: string;
  readonly schema: string;
  readonly poolMax: number;
  readonly logger: Logger;
}

type TypeId = Parameters<typeof pg.types.getTypeParser>[0];
const { INT8, TIMESTAMP, TIMESTAMPTZ } = pg.types.builtins;

// Make rows look the same as on SQLite: 64-bit integers as numbers (refusing
// values beyond 2^53 rather than rounding them) and times as ISO-8601 strings.
function getTypeParser(oid: TypeId): (value: string) => unknown {
  if (oid === INT8) {
    return (value: string) => {
      const n = Number(value);
      if (!Number.isSafeInteger(n)) throw new RangeError(`integer ${value} exceeds 2^53`);
      return n;
    };
  }
  if (oid === TIMESTAMPTZ || oid === TIMESTAMP) {
    const parseDate = pg.types.getTypeParser(oid, 'text') as (value: string) => Date;
    return (value: string) => parseDate(value).toISOString();
  }
  return pg.types.getTypeParser(oid, 'text') as (value: string) => unknown;
}

export function openPostgres(options: PostgresOptions): { db: Kysely<Tables>; pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    // The schema name is validated against ^[a-z_][a-z0-9_]*$ by the config schema.
    options: `-c search_path=${options.schema}`,
    types: { getTypeParser },
    connectionTimeoutMillis: 10_000,
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', (error) => options.logger.warn({ err: error }, 'PostgreSQL connection lost'));
  const db = new Kysely<Tables>({
    dialect: new PostgresDialect({ pool }),
  });
  return { db, pool };
}

/** PostgreSQL's unique_violation SQLSTATE. */
export function isPostgresUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown }).code === '23505';
}
