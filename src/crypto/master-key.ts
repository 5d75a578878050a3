import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RampartConfig } from '../config/schema.ts';
import { CryptoError } from '../kernel/errors.ts';

export interface MasterKey {
  readonly key: Buffer;
  /** environment · file (keyring.masterKeyFile) · development (generated into the data directory) */
  readonly source: 'environment' | 'file' | 'development';
  /** True when this call generated the development key (first start). */
  readonly generated: boolean;
  readonly file?: string;
}

export const DEV_KEY_FILE = 'master.key';

function decodeMasterKey(text: string, origin: string): Buffer {
  const trimmed = text.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) || key.length !== 32) {
    throw new CryptoError('crypto.master_key_invalid', `${origin} must hold 32 bytes in base64 (generate with \`openssl rand -base64 32\`)`);
  }
  return key;
}

function readKeyFile(file: string): Buffer {
  const mode = statSync(file).mode;
  if ((mode & 0o077) !== 0) {
    throw new CryptoError('crypto.key_file_insecure', `master key file ${file} has mode ${(mode & 0o777).toString(8)}; run chmod 600 on it`);
  }
  return decodeMasterKey(readFileSync(file, 'utf8'), `master key file ${file}`);
}

/**
 * The key-encryption key, from (in order) RAMPART_MASTER_KEY, keyring.masterKeyFile,
 * or — in development only — `<dataDir>/master.key`, generated on first start.
 */
export function resolveMasterKey(config: RampartConfig, options: { create?: boolean } = {}): MasterKey {
  const keyring = config.keyring;
  if (keyring.masterKey !== undefined) {
    return { key: decodeMasterKey(keyring.masterKey, 'RAMPART_MASTER_KEY'), source: 'environment', generated: false };
  }
  if (keyring.masterKeyFile !== undefined) {
    const file = resolve(keyring.masterKeyFile);
    return { key: readKeyFile(file), source: 'file', generated: false, file };
  }
  if (config.env === 'production') {
    throw new CryptoError('crypto.master_key_missing', 'production needs RAMPART_MASTER_KEY or keyring.masterKeyFile');
  }
  const dir = resolve(config.dataDir);
  const file = resolve(dir, DEV_KEY_FILE);
  if (existsSync(file)) return { key: readKeyFile(file), source: 'development', generated: false, file };
  if (options.create === false) {
    throw new CryptoError('crypto.master_key_missing', `no master key: RAMPART_MASTER_KEY, keyring.masterKeyFile and ${file} are all absent`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  // `wx` fails if another process created the file first; mode 0600 from birth.
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return { key, source: 'development', generated: true, file };
}
