import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { RampartConfig } from '../../src/config/schema.ts';
import { createMemoryLogger } from '../../src/kernel/logger.ts';
import { openDatabase, migrateUp, type Database } from '../../src/storage/database.ts';
import { testConfig } from './config.ts';
import { tempDir } from './tmp.ts';

// The storage contract runs once per adapter. PostgreSQL comes from
// RAMPART_TEST_POSTGRES_URL; each opened database gets its own fresh schema,
// dropped afterwards, so runs never see each other's data.

export interface DatabaseTarget {
  readonly name: 'sqlite' | 'postgres';
  /** Why the target cannot run here, or undefined when it can. */
  readonly skip: string | undefined;
  open(options?: { migrate?: boolean }): Promise<OpenedDatabase>;
}

export interface OpenedDatabase {
  readonly database: Database;
  readonly config: RampartConfig;
  /** Closes the database and removes its files or schema. */
  cleanup(): Promise<void>;
}

export const POSTGRES_URL = process.env['RAMPART_TEST_POSTGRES_URL'];

/** In CI every service must be present: a skip there is a failure. */
export function serviceSkipReason(reason: string | undefined): string | undefined {
  if (reason !== undefined && process.env['CI'] === 'true') {
    throw new Error(`CI=true but a required service is unavailable: ${reason}`);
  }
  return reason;
}

async function openTarget(config: RampartConfig, migrate: boolean, afterClose: () => Promise<void>): Promise<OpenedDatabase> {
  const database = await openDatabase(config, createMemoryLogger('warn').logger);
  if (migrate) await migrateUp(database);
  return {
    database,
    config,
    cleanup: async () => {
      await database.close();
      await afterClose();
    },
  };
}

export const sqliteTarget: DatabaseTarget = {
  name: 'sqlite',
  skip: undefined,
  async open(options = {}) {
    const dir = tempDir('rampart-sqlite');
    return openTarget(testConfig(dir.path), options.migrate ?? true, () => {
      dir.cleanup();
      return Promise.resolve();
    });
  },
};

export const postgresTarget: DatabaseTarget = {
  name: 'postgres',
  skip: POSTGRES_URL === undefined || POSTGRES_URL === '' ? 'RAMPART_TEST_POSTGRES_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)' : undefined,
  async open(options = {}) {
    const url = POSTGRES_URL ?? '';
    const schema = `rampart_test_${randomBytes(6).toString('hex')}`;
    const dir = tempDir('rampart-pg');
    const config = testConfig(dir.path, { database: { driver: 'postgres', postgresUrl: url, postgresSchema: schema } });
    return openTarget(config, options.migrate ?? true, async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await client.end();
      }
      dir.cleanup();
    });
  },
};

export const DATABASE_TARGETS: readonly DatabaseTarget[] = [sqliteTarget, postgresTarget];
