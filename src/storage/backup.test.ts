import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { testConfig } from '../../test/support/config.ts';
import { hasCode } from '../../test/support/errors.ts';
import { masterKey } from '../../test/support/keys.ts';
import { tempDir } from '../../test/support/tmp.ts';
import type { RampartConfig } from '../config/schema.ts';
import { systemClock } from '../kernel/clock.ts';
import { acquireDataDirLock } from '../kernel/lockfile.ts';
import { createMemoryLogger } from '../kernel/logger.ts';
import { startRampart } from '../server.ts';
import { createBackup, MANIFEST_FILE, restoreBackup } from './backup.ts';
import { openDatabase, sqlitePath } from './database.ts';

const fileHash = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

async function usernames(config: RampartConfig): Promise<string[]> {
  const database = await openDatabase(config, createMemoryLogger().logger);
  try {
    return (await database.db.selectFrom('accounts').select('username').orderBy('username').execute()).map((r) => r.username);
  } finally {
    await database.close();
  }
}

async function addAccount(config: RampartConfig, username: string): Promise<void> {
  const database = await openDatabase(config, createMemoryLogger().logger);
  const now = new Date().toISOString();
  try {
    await database.db.insertInto('accounts').values({ id: `acct_${username}`, username, role: 'dispatcher', status: 'active', created_at: now, updated_at: now }).execute();
  } finally {
    await database.close();
  }
}

/** A data directory populated by a real start (migrations, keys, bootstrap admin). */
async function populated(): Promise<{ config: RampartConfig; key: Buffer; dir: ReturnType<typeof tempDir> }> {
  const dir = tempDir('rampart-backup');
  const key = masterKey();
  const config = testConfig(join(dir.path, 'data'), { keyring: { masterKey: key.toString('base64') } });
  const running = await startRampart(config, { logger: createMemoryLogger().logger, announce: () => undefined });
  await running.stop();
  await addAccount(config, 'dispatcher-1');
  return { config, key, dir };
}

describe('backup and restore', () => {
  test('round-trips: a restore brings back exactly the state at backup time', async () => {
    const { config, key, dir } = await populated();
    try {
      const folder = join(dir.path, 'backup-1');
      const phases = new Set<string>();
      const manifest = await createBackup(folder, { config, masterKey: key, clock: systemClock, onProgress: (p) => phases.add(p.phase) });
      assert.deepEqual(manifest.migrations, ['0001_foundation', '0002_identity', '0003_audit', '0004_devices', '0005_delivery', '0006_webhooks', '0007_routes', '0008_proofs']);
      assert.equal(manifest.files[0]?.sha256, fileHash(join(folder, 'rampart.db')));
      assert.ok(phases.has('copy') && phases.has('hash'), 'progress was reported');

      await addAccount(config, 'after-backup');
      assert.deepEqual(await usernames(config), ['admin', 'after-backup', 'dispatcher-1']);

      await restoreBackup(folder, { config, masterKey: key, clock: systemClock, force: true });
      assert.deepEqual(await usernames(config), ['admin', 'dispatcher-1']);

      // The restored database still opens with its keys: the server starts on it.
      const running = await startRampart(config, { logger: createMemoryLogger().logger, announce: () => undefined });
      await running.stop();
    } finally {
      dir.cleanup();
    }
  });

  test('takes a consistent snapshot while the database is being written', async () => {
    const { config, key, dir } = await populated();
    const database = await openDatabase(config, createMemoryLogger().logger);
    try {
      let writing = true;
      let written = 0;
      const writer = (async () => {
        while (writing) {
          const now = new Date().toISOString();
          await database.db.insertInto('accounts').values({ id: `acct_w${written}`, username: `w${written}`, role: 'driver', status: 'active', created_at: now, updated_at: now }).execute();
          written++;
          await new Promise((r) => setImmediate(r));
        }
      })();
      const manifest = await createBackup(join(dir.path, 'live'), { config, masterKey: key, clock: systemClock });
      writing = false;
      await writer;
      assert.ok(written > 0);
      assert.equal(manifest.files.length, 1, 'the snapshot passed its integrity check');
    } finally {
      await database.close();
      dir.cleanup();
    }
  });

  test('refuses a backup whose database was corrupted, and leaves the live database untouched', async () => {
    const { config, key, dir } = await populated();
    try {
      const folder = join(dir.path, 'backup-2');
      await createBackup(folder, { config, masterKey: key, clock: systemClock });
      const backupDb = join(folder, 'rampart.db');
      const bytes = readFileSync(backupDb);
      bytes[bytes.length - 100] = (bytes[bytes.length - 100] ?? 0) ^ 0xff;
      writeFileSync(backupDb, bytes);
      const before = fileHash(sqlitePath(config));

      await assert.rejects(restoreBackup(folder, { config, masterKey: key, clock: systemClock, force: true }), hasCode('backup.mismatch'));
      assert.equal(fileHash(sqlitePath(config)), before, 'the live database is unchanged');
    } finally {
      dir.cleanup();
    }
  });

  test('refuses a manifest edited to match a tampered file, or verified under another master key', async () => {
    const { config, key, dir } = await populated();
    try {
      const folder = join(dir.path, 'backup-3');
      await createBackup(folder, { config, masterKey: key, clock: systemClock });
      const manifestPath = join(folder, MANIFEST_FILE);
      const original = readFileSync(manifestPath, 'utf8');

      await assert.rejects(restoreBackup(folder, { config, masterKey: masterKey(), clock: systemClock, force: true }), hasCode('backup.mismatch'));

      const backupDb = join(folder, 'rampart.db');
      const bytes = readFileSync(backupDb);
      bytes[200] = (bytes[200] ?? 0) ^ 0x01;
      writeFileSync(backupDb, bytes);
      const edited = JSON.parse(original) as { files: Array<{ sha256: string }> };
      edited.files[0]!.sha256 = fileHash(backupDb);
      writeFileSync(manifestPath, JSON.stringify(edited));
      await assert.rejects(restoreBackup(folder, { config, masterKey: key, clock: systemClock, force: true }), hasCode('backup.mismatch'));

      writeFileSync(manifestPath, '{"format": "something else"}');
      await assert.rejects(restoreBackup(folder, { config, masterKey: key, clock: systemClock, force: true }), hasCode('backup.invalid'));
      rmSync(manifestPath);
      await assert.rejects(restoreBackup(folder, { config, masterKey: key, clock: systemClock, force: true }), hasCode('backup.invalid'));
    } finally {
      dir.cleanup();
    }
  });

  test('refuses to overwrite without --force, to restore under a running server, and to back up into a used folder', async () => {
    const { config, key, dir } = await populated();
    try {
      const folder = join(dir.path, 'backup-4');
      await createBackup(folder, { config, masterKey: key, clock: systemClock });
      const before = fileHash(sqlitePath(config));
      await assert.rejects(restoreBackup(folder, { config, masterKey: key, clock: systemClock, force: false }), hasCode('backup.target_exists'));
      const lock = acquireDataDirLock(config.dataDir);
      try {
        await assert.rejects(restoreBackup(folder, { config, masterKey: key, clock: systemClock, force: true }), hasCode('lifecycle.already_running'));
      } finally {
        lock.release();
      }
      assert.equal(fileHash(sqlitePath(config)), before);
      await assert.rejects(createBackup(folder, { config, masterKey: key, clock: systemClock }), hasCode('backup.target_exists'));
      mkdirSync(join(dir.path, 'other'));
      await assert.rejects(createBackup(join(dir.path, 'other'), { config, masterKey: masterKey(), clock: systemClock }), hasCode('crypto.master_key_mismatch'));
      assert.deepEqual(readdirSync(join(dir.path, 'other')), [], 'a failed backup leaves nothing behind');
      await assert.rejects(createBackup(join(dir.path, 'fresh'), { config, masterKey: masterKey(), clock: systemClock }), hasCode('crypto.master_key_mismatch'));
      assert.equal(existsSync(join(dir.path, 'fresh')), false);
    } finally {
      dir.cleanup();
    }
  });

  test('sends PostgreSQL users to pg_dump', async () => {
    const dir = tempDir();
    try {
      const config = testConfig(dir.path, { database: { driver: 'postgres', postgresUrl: 'postgres://x@127.0.0.1/db' } });
      await assert.rejects(createBackup(join(dir.path, 'b'), { config, masterKey: masterKey(), clock: systemClock }), hasCode('backup.unsupported', /pg_dump/));
    } finally {
      dir.cleanup();
    }
  });
});
