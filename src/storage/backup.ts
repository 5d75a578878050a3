import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, copyFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Type, { type Static } from 'typebox';
import { Value } from 'typebox/value';
import type { RampartConfig } from '../config/schema.ts';
import { constantTimeEqual } from '../crypto/compare.ts';
import { deriveKey } from '../crypto/envelope.ts';
import { masterKeyFingerprint } from '../crypto/keyring.ts';
import { canonicalJson } from '../kernel/canonical-json.ts';
import type { Clock } from '../kernel/clock.ts';
import { BackupError, CryptoError, StorageError } from '../kernel/errors.ts';
import { lockHolder } from '../kernel/lockfile.ts';
import { sqlitePath } from './database.ts';
import { appliedMigrations, checkSqliteIntegrity, snapshotSqlite, storedKeyFingerprint } from './sqlite/snapshot.ts';

// Backups of the embedded database: a consistent online snapshot plus a
// manifest listing each file's size and SHA-256, authenticated with an HMAC
// under a key derived from the master key. Restore verifies everything before
// it touches the live database, so a damaged or altered backup changes nothing.

export const MANIFEST_FILE = 'manifest.json';
const DATABASE_FILE = 'rampart.db';
const FORMAT = 'rampart-backup/1';

const ManifestSchema = Type.Object(
  {
    format: Type.Literal(FORMAT),
    createdAt: Type.String(),
    dialect: Type.Literal('sqlite'),
    migrations: Type.Array(Type.String()),
    keyFingerprint: Type.String(),
    files: Type.Array(
      Type.Object({ name: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*$' }), bytes: Type.Integer({ minimum: 0 }), sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) }, { additionalProperties: false }),
      { minItems: 1 },
    ),
    mac: Type.String(),
  },
  { additionalProperties: false },
);

export type BackupManifest = Static<typeof ManifestSchema>;

export interface Progress {
  readonly phase: string;
  readonly done: number;
  readonly total: number;
}

export interface BackupOptions {
  readonly config: RampartConfig;
  readonly masterKey: Buffer;
  readonly clock: Clock;
  readonly onProgress?: (progress: Progress) => void;
}

function manifestMac(masterKey: Buffer, manifest: Omit<BackupManifest, 'mac'>): string {
  return createHmac('sha256', deriveKey(masterKey, 'rampart/backup-manifest/v1')).update(canonicalJson(manifest)).digest('base64url');
}

async function sha256File(path: string, onBytes?: (done: number, total: number) => void): Promise<{ sha256: string; bytes: number }> {
  const total = statSync(path).size;
  const hash = createHash('sha256');
  let done = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    done += (chunk as Buffer).length;
    onBytes?.(done, total);
  }
  return { sha256: hash.digest('hex'), bytes: done };
}

function requireSqlite(config: RampartConfig): string {
  if (config.database.driver !== 'sqlite') {
    throw new BackupError('backup.unsupported', 'rampart backup/restore handle the embedded SQLite database; for PostgreSQL use pg_dump and pg_restore (see docs/OPERATIONS.md)');
  }
  return sqlitePath(config);
}

/** Writes `<target>/rampart.db` and `<target>/manifest.json`; the target must be absent or empty. */
export async function createBackup(target: string, options: BackupOptions): Promise<BackupManifest> {
  const source = requireSqlite(options.config);
  if (!existsSync(source)) throw new StorageError('storage.unavailable', `no database at ${source}`);
  const dir = resolve(target);
  const existed = existsSync(dir);
  if (existed && readdirSync(dir).length > 0) throw new BackupError('backup.target_exists', `backup folder ${dir} is not empty`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    return await writeBackup(dir, source, options);
  } catch (error) {
    // A failed backup leaves nothing that could later be mistaken for one.
    if (existed) for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
    else rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function writeBackup(dir: string, source: string, options: BackupOptions): Promise<BackupManifest> {
  const dbFile = join(dir, DATABASE_FILE);
  await snapshotSqlite(source, dbFile, (p) => options.onProgress?.({ phase: 'copy', ...p }));
  const problems = checkSqliteIntegrity(dbFile);
  if (problems.length > 0) throw new StorageError('storage.unavailable', `the snapshot failed its integrity check: ${problems.slice(0, 3).join('; ')}`);

  const fingerprint = masterKeyFingerprint(options.masterKey);
  const stored = storedKeyFingerprint(dbFile);
  if (stored !== undefined && stored !== fingerprint) {
    throw new CryptoError('crypto.master_key_mismatch', 'the master key does not match this database; the backup would be unverifiable');
  }
  const file = await sha256File(dbFile, (done, total) => options.onProgress?.({ phase: 'hash', done, total }));
  const body: Omit<BackupManifest, 'mac'> = {
    format: FORMAT,
    createdAt: options.clock.now().toISOString(),
    dialect: 'sqlite',
    migrations: appliedMigrations(dbFile),
    keyFingerprint: fingerprint,
    files: [{ name: DATABASE_FILE, ...file }],
  };
  const manifest: BackupManifest = { ...body, mac: manifestMac(options.masterKey, body) };
  writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  return manifest;
}

/** Reads and checks a backup's manifest and files; throws before anything is changed. */
export async function verifyBackup(source: string, masterKey: Buffer, onProgress?: (progress: Progress) => void): Promise<BackupManifest> {
  const dir = resolve(source);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8'));
  } catch (error) {
    throw new BackupError('backup.invalid', `${join(dir, MANIFEST_FILE)} is missing or not JSON`, { cause: error });
  }
  if (!Value.Check(ManifestSchema, parsed)) {
    const first = [...Value.Errors(ManifestSchema, parsed)][0];
    throw new BackupError('backup.invalid', `${join(dir, MANIFEST_FILE)} is not a ${FORMAT} manifest (${first?.instancePath ?? ''} ${first?.message ?? ''})`);
  }
  const manifest = parsed;
  const { mac, ...body } = manifest;
  if (!constantTimeEqual(manifestMac(masterKey, body), mac)) {
    throw new BackupError('backup.mismatch', 'the manifest\'s authentication code does not verify: it was altered, or the backup was made under another master key');
  }
  for (const file of manifest.files) {
    const path = join(dir, file.name);
    if (!existsSync(path)) throw new BackupError('backup.mismatch', `${file.name} is listed in the manifest but missing`);
    const actual = await sha256File(path, (done, total) => onProgress?.({ phase: 'verify', done, total }));
    if (actual.bytes !== file.bytes || !constantTimeEqual(actual.sha256, file.sha256)) {
      throw new BackupError('backup.mismatch', `${file.name} does not match the manifest (expected ${file.bytes} bytes, sha256 ${file.sha256}; found ${actual.bytes} bytes, sha256 ${actual.sha256})`);
    }
  }
  return manifest;
}

export interface RestoreOptions extends BackupOptions {
  /** Replace an existing database. */
  readonly force: boolean;
}

/** Verifies the backup, then swaps it in for the configured database file. */
export async function restoreBackup(source: string, options: RestoreOptions): Promise<{ manifest: BackupManifest; target: string }> {
  const target = requireSqlite(options.config);
  const manifest = await verifyBackup(source, options.masterKey, options.onProgress);
  const holder = lockHolder(options.config.dataDir);
  if (holder !== undefined) throw new BackupError('lifecycle.already_running', `Rampart (pid ${holder}) is running on ${resolve(options.config.dataDir)}; stop it before restoring`);
  if (existsSync(target) && !options.force) throw new BackupError('backup.target_exists', `${target} exists; pass --force to replace it`);

  mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
  const database = manifest.files.find((f) => f.name === DATABASE_FILE);
  if (database === undefined) throw new BackupError('backup.invalid', `the manifest lists no ${DATABASE_FILE}`);
  // Copy beside the target, check the copy, then rename: the live file is replaced atomically or not at all.
  const staging = join(dirname(target), `.${basename(target)}.restore-${randomBytes(6).toString('hex')}`);
  try {
    copyFileSync(join(resolve(source), DATABASE_FILE), staging);
    const copied = await sha256File(staging, (done, total) => options.onProgress?.({ phase: 'copy', done, total }));
    if (copied.sha256 !== database.sha256) throw new BackupError('backup.mismatch', 'the copied database changed while it was being restored');
    const problems = checkSqliteIntegrity(staging);
    if (problems.length > 0) throw new BackupError('backup.mismatch', `the backup's database fails its integrity check: ${problems.slice(0, 3).join('; ')}`);
    // A stale write-ahead log next to the new file would be replayed into it.
    rmSync(`${target}-wal`, { force: true });
    rmSync(`${target}-shm`, { force: true });
    renameSync(staging, target);
  } finally {
    rmSync(staging, { force: true });
  }
  return { manifest, target };
}
