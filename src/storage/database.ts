import { resolve } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { Migrator, type MigrationResult } from 'kysely/migration';
import type { RampartConfig } from '../config/schema.ts';
import { StorageError } from '../kernel/errors.ts';
import type { Logger } from '../kernel/logger.ts';
import { migrationProvider, type Dialect } from './migrations/index.ts';
import { isPostgresUniqueViolation, openPostgres } from './postgres/connect.ts';
import { isSqliteUniqueViolation, openSqlite } from './sqlite/connect.ts';
import type { Tables } from './tables.ts';

export type Db = Kysely<Tables>;

/** The storage port: one Kysely handle plus what differs per dialect. */
export interface Database {
  readonly db: Db;
  readonly dialect: Dialect;
  /** A description safe to print: the SQLite file, or the PostgreSQL host and schema (no credentials). */
  readonly location: string;
  /** PostgreSQL schema holding the tables (and Kysely's migration bookkeeping); undefined on SQLite. */
  readonly schema: string | undefined;
  /** Throws StorageError('storage.unavailable') when the database does not answer. */
  ping(): Promise<void>;
  isUniqueViolation(error: unknown): boolean;
  close(): Promise<void>;
}

export interface MigrationStatus {
  readonly name: string;
  readonly applied: boolean;
}

export function sqlitePath(config: RampartConfig): string {
  return resolve(config.database.sqlitePath === '' ? resolve(config.dataDir, 'rampart.db') : config.database.sqlitePath);
}

export async function openDatabase(config: RampartConfig, logger: Logger): Promise<Database> {
  const settings = config.database;
  if (settings.driver === 'sqlite') {
    const path = sqlitePath(config);
    const { db } = openSqlite({ path, busyTimeoutMs: settings.busyTimeoutMs });
    return wrap(db, 'sqlite', path, undefined, isSqliteUniqueViolation);
  }
  const url = new URL(settings.postgresUrl);
  const { db } = openPostgres({ url: settings.postgresUrl, schema: settings.postgresSchema, poolMax: settings.poolMax, logger });
  const database = wrap(db, 'postgres', `postgres://${url.host}${url.pathname} (schema ${settings.postgresSchema})`, settings.postgresSchema, isPostgresUniqueViolation);
  try {
    await db.schema.createSchema(settings.postgresSchema).ifNotExists().execute();
  } catch (error) {
    await db.destroy();
    throw new StorageError('storage.unavailable', `cannot reach PostgreSQL at ${database.location}: ${(error as Error).message}`, { cause: error });
  }
  return database;
}

function wrap(db: Db, dialect: Dialect, location: string, schema: string | undefined, isUniqueViolation: (error: unknown) => boolean): Database {
  let closed = false;
  return {
    db,
    dialect,
    location,
    schema,
    isUniqueViolation,
    async ping() {
      try {
        await sql`select 1`.execute(db);
      } catch (error) {
        throw new StorageError('storage.unavailable', `database ${location} did not answer: ${(error as Error).message}`, { cause: error });
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

function migrator(database: Database): Migrator {
  // On PostgreSQL the bookkeeping tables are named with their schema, or Kysely
  // would find another schema's tables in the same database and skip ours.
  return new Migrator({
    db: database.db,
    provider: migrationProvider(database.dialect),
    ...(database.schema === undefined ? {} : { migrationTableSchema: database.schema }),
  });
}

export async function migrationStatus(database: Database): Promise<MigrationStatus[]> {
  const all = await migrator(database).getMigrations();
  return all.map((m) => ({ name: m.name, applied: m.executedAt !== undefined }));
}

/** Applies every pending migration; returns the names applied. */
export async function migrateUp(database: Database): Promise<string[]> {
  const { error, results } = await migrator(database).migrateToLatest();
  const failed = results?.find((r: MigrationResult) => r.status === 'Error');
  if (error !== undefined) {
    throw new StorageError('storage.migration_failed', `migration ${failed?.migrationName ?? '(setup)'} failed: ${(error as Error).message}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Start-up: migrate, or refuse to run against an outdated schema when automatic migration is off. */
export async function prepareSchema(database: Database, migrateOnStart: boolean): Promise<string[]> {
  if (migrateOnStart) return migrateUp(database);
  const pending = (await migrationStatus(database)).filter((m) => !m.applied).map((m) => m.name);
  if (pending.length > 0) {
    throw new StorageError('storage.schema_outdated', `migrations pending (${pending.join(', ')}) and database.migrateOnStart is false; run \`rampart migrate up\``);
  }
  return [];
}
