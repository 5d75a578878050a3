import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { CompiledQuery, Kysely, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDatabase, type SqliteStatement, type TransactionSettings } from 'kysely';
import { StorageError } from '../../kernel/errors.ts';
import type { Tables } from '../tables.ts';

export interface SqliteOptions {
  readonly path: string;
  readonly busyTimeoutMs: number;
}

// Kysely's SqliteDialect expects better-sqlite3's shape; node:sqlite differs in
// small ways (spread parameters, no booleans, `columns()` instead of `reader`).
// This adapter bridges them and caches prepared statements by SQL text.
class NodeSqliteDatabase implements SqliteDatabase {
  readonly #raw: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  constructor(raw: DatabaseSync) {
    this.#raw = raw;
  }

  close(): void {
    this.#statements.clear();
    if (this.#raw.isOpen) this.#raw.close();
  }

  prepare(sql: string): SqliteStatement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#raw.prepare(sql);
      if (this.#statements.size >= 256) this.#statements.clear();
      this.#statements.set(sql, statement);
    }
    const prepared = statement;
    return {
      reader: prepared.columns().length > 0,
      all: (parameters) => prepared.all(...toSqlite(parameters)),
      run: (parameters) => prepared.run(...toSqlite(parameters)),
      iterate: (parameters) => prepared.iterate(...toSqlite(parameters)),
    };
  }
}

function toSqlite(parameters: ReadonlyArray<unknown>): SQLInputValue[] {
  return parameters.map((value) => {
    if (typeof value === 'boolean') return value ? 1 : 0;
    if (value instanceof Date) return value.toISOString();
    if (value === undefined) return null;
    return value as SQLInputValue;
  });
}

// Every transaction that may write takes the write lock when it begins (BEGIN
// IMMEDIATE). A deferred transaction that reads and then writes cannot wait
// for another process's writer: SQLite refuses the upgrade at once with
// "database is locked" instead of using the busy timeout, which is what two
// `rampart simulate` runs beside a server met. Taking the lock first makes the
// busy timeout apply, and writers queue instead of failing. A read-only
// transaction (the audit trail's snapshot) stays deferred: in WAL mode it reads
// one snapshot without holding the write lock.
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection, settings?: TransactionSettings): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(settings?.accessMode === 'read only' ? 'begin' : 'begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #database: SqliteDatabase;

  constructor(database: SqliteDatabase) {
    super({ database });
    this.#database = database;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver({ database: this.#database });
  }
}

/**
 * Opens the embedded database: WAL for concurrent readers, synchronous=FULL so a
 * committed transaction survives power loss, foreign keys on, and a busy timeout
 * for the CLI running beside the server.
 */
export function openSqlite(options: SqliteOptions): { db: Kysely<Tables>; raw: DatabaseSync } {
  mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
  let raw: DatabaseSync;
  try {
    raw = new DatabaseSync(options.path, { enableForeignKeyConstraints: true, timeout: options.busyTimeoutMs });
    raw.exec('PRAGMA journal_mode = WAL');
    raw.exec('PRAGMA synchronous = FULL');
    raw.exec('PRAGMA foreign_keys = ON');
    raw.exec('PRAGMA trusted_schema = OFF');
  } catch (error) {
    throw new StorageError('storage.unavailable', `cannot open SQLite database ${options.path}: ${(error as Error).message}`, { cause: error });
  }
  const db = new Kysely<Tables>({ dialect: new ImmediateSqliteDialect(new NodeSqliteDatabase(raw)) });
  return { db, raw };
}

/** SQLite reports constraint failures with extended result codes. */
export function isSqliteUniqueViolation(error: unknown): boolean {
  const errcode = (error as { errcode?: unknown }).errcode;
  // SQLITE_CONSTRAINT_UNIQUE (2067) and SQLITE_CONSTRAINT_PRIMARYKEY (1555).
  return errcode === 2067 || errcode === 1555;
}
