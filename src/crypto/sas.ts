import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { constantTimeEqual } from './compare.ts';

// Shared access signature tokens, in the format Event Hubs and IoT Hub devices
// already speak:
//
//   SharedAccessSignature sr=<encodeURIComponent(uri)>&sig=<encodeURIComponent(base64 HMAC-SHA256)>&se=<unix seconds>[&skn=<key name>]
//
// The HMAC covers `<sr as sent> + "\n" + <se>`. Signers differ in how they
// percent-encode (`%3A` from JavaScript, `%3a` from .NET), so the signature is
// checked over the `sr` text exactly as it arrived, and the decoded URI is what
// coverage is judged on. The HMAC key is the key string's UTF-8 bytes (Event
// Hubs) or its base64-decoded bytes (IoT Hub).

export type SasKeyEncoding = 'utf8' | 'base64';

export const SAS_PREFIX = 'SharedAccessSignature ';
/** Longer tokens are refused before any parsing work. */
export const MAX_SAS_TOKEN_LENGTH = 4096;
const MAX_RESOURCE_LENGTH = 1024;
const KEY_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const EXPIRY_PATTERN = /^[1-9][0-9]{0,10}$/;
/** base64 of the 32-byte HMAC-SHA256 output, padded. */
const SIGNATURE_PATTERN = /^[A-Za-z0-9+/]{43}=$/;
/** Schemes a resource URI may carry (or none, as IoT Hub device tokens do). */
const SCHEMES = ['https://', 'sb://', 'amqps://'] as const;
/** One path segment: what hub names and device ids are made of; no `%`, `\`, `?`, `#`, spaces. */
const SEGMENT_PATTERN = /^[A-Za-z0-9._:~-]+$/;

export interface CreateSasTokenInput {
  /** The resource URI as the device names it, e.g. `https://host/hub/publishers/d1`. */
  readonly resourceUri: string;
  readonly key: string;
  /** Omitted for IoT Hub style device tokens. */
  readonly keyName?: string;
  /** Unix seconds. */
  readonly expiresAt: number;
  readonly keyEncoding: SasKeyEncoding;
}

export interface ParsedSasToken {
  /** The decoded resource URI. */
  readonly resource: string;
  /** `sr` exactly as sent: the signed text. */
  readonly signedResource: string;
  /** The 32 signature bytes. */
  readonly signature: Buffer;
  /** Unix seconds. */
  readonly expiresAt: number;
  /** The `se` text exactly as sent (also signed). */
  readonly signedExpiry: string;
  readonly keyName: string | undefined;
}

/** The token text is not a SAS token this implementation accepts. */
export class SasTokenMalformedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SasTokenMalformedError';
  }
}

function hmacKey(key: string, encoding: SasKeyEncoding): Buffer {
  return encoding === 'utf8' ? Buffer.from(key, 'utf8') : Buffer.from(key, 'base64');
}

function sign(signedResource: string, signedExpiry: string, key: KeyObject | Buffer): Buffer {
  return createHmac('sha256', key).update(`${signedResource}\n${signedExpiry}`, 'utf8').digest();
}

/**
 * The HMAC key for a key string under an encoding, as a KeyObject: verifiers
 * that check many tokens with one key build it once (importing raw key bytes
 * on every verification costs more than the HMAC itself).
 */
export function sasSigningKey(key: string, encoding: SasKeyEncoding): KeyObject {
  return createSecretKey(hmacKey(key, encoding));
}

export function createSasToken(input: CreateSasTokenInput): string {
  if (!Number.isSafeInteger(input.expiresAt) || !EXPIRY_PATTERN.test(String(input.expiresAt))) throw new RangeError('expiresAt must be a positive whole number of Unix seconds');
  if (input.keyName !== undefined && !KEY_NAME_PATTERN.test(input.keyName)) throw new RangeError('keyName must be 1–64 characters of A–Z, a–z, 0–9, ".", "_", "-"');
  const sr = encodeURIComponent(input.resourceUri);
  const se = String(input.expiresAt);
  const sig = encodeURIComponent(sign(sr, se, hmacKey(input.key, input.keyEncoding)).toString('base64'));
  return `${SAS_PREFIX}sr=${sr}&sig=${sig}&se=${se}${input.keyName === undefined ? '' : `&skn=${input.keyName}`}`;
}

function decode(value: string, field: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new SasTokenMalformedError(`${field} is not valid percent-encoding`);
  }
}

export interface ParseSasOptions {
  /**
   * The token must name its key (`skn`), as Event Hubs tokens do. IoT Hub's
   * device-scoped tokens carry none, so this is false (the default) for them.
   */
  readonly requireKeyName?: boolean;
}

/**
 * Strict: the prefix, then `sr`, `sig`, `se` and optionally `skn` (required
 * with `requireKeyName`), each exactly once and non-empty, in any order
 * (signers differ), nothing else. Throws SasTokenMalformedError.
 */
export function parseSasToken(text: string, options: ParseSasOptions = {}): ParsedSasToken {
  if (typeof text !== 'string' || text.length > MAX_SAS_TOKEN_LENGTH) throw new SasTokenMalformedError('missing or too long');
  if (!text.startsWith(SAS_PREFIX)) throw new SasTokenMalformedError('not a SharedAccessSignature');
  const fields = new Map<string, string>();
  for (const pair of text.slice(SAS_PREFIX.length).split('&')) {
    const at = pair.indexOf('=');
    const name = at < 0 ? pair : pair.slice(0, at);
    const value = at < 0 ? '' : pair.slice(at + 1);
    if (name !== 'sr' && name !== 'sig' && name !== 'se' && name !== 'skn') throw new SasTokenMalformedError(`unknown field ${JSON.stringify(name.slice(0, 16))}`);
    if (fields.has(name)) throw new SasTokenMalformedError(`field ${name} repeated`);
    if (value === '') throw new SasTokenMalformedError(`field ${name} empty`);
    fields.set(name, value);
  }
  const sr = fields.get('sr');
  const sig = fields.get('sig');
  const se = fields.get('se');
  const skn = fields.get('skn');
  if (sr === undefined || sig === undefined || se === undefined) throw new SasTokenMalformedError('sr, sig and se are required');
  if (sr.length > MAX_RESOURCE_LENGTH * 3 || /[^A-Za-z0-9%._~!*'()/:-]/.test(sr)) throw new SasTokenMalformedError('sr is not a percent-encoded URI');
  const resource = decode(sr, 'sr');
  if (resource.length > MAX_RESOURCE_LENGTH) throw new SasTokenMalformedError('sr too long');
  if (!EXPIRY_PATTERN.test(se)) throw new SasTokenMalformedError('se is not Unix seconds');
  const signature = decode(sig, 'sig');
  if (!SIGNATURE_PATTERN.test(signature)) throw new SasTokenMalformedError('sig is not a base64 HMAC-SHA256');
  if (skn === undefined && options.requireKeyName === true) throw new SasTokenMalformedError('skn is required: name the key that signed the token');
  if (skn !== undefined && !KEY_NAME_PATTERN.test(skn)) throw new SasTokenMalformedError('skn is not a key name');
  return { resource, signedResource: sr, signature: Buffer.from(signature, 'base64'), expiresAt: Number(se), signedExpiry: se, keyName: skn };
}

/** Whether `key` made the token's signature. Constant time in the signature bytes. */
export function verifySasSignature(parsed: ParsedSasToken, key: string | KeyObject, keyEncoding?: SasKeyEncoding): boolean {
  const expected = sign(parsed.signedResource, parsed.signedExpiry, typeof key === 'string' ? hmacKey(key, keyEncoding ?? 'utf8') : key);
  return constantTimeEqual(expected, parsed.signature);
}

function segmentsOf(path: string): string[] | undefined {
  if (path === '') return [];
  const segments = path.split('/');
  for (const segment of segments) {
    if (!SEGMENT_PATTERN.test(segment) || segment === '.' || segment === '..') return undefined;
  }
  return segments;
}

/**
 * Whether a token for `tokenResource` (a decoded `sr`) covers `requestedPath`
 * (host-less, e.g. `drone-telemetry/publishers/d1/messages`): its host is
 * allowed and its path is the requested path or an ancestor of it by whole
 * segments. Paths compare case-insensitively, as the services do; that widens
 * nothing, because the signing key belongs to one device.
 */
export function coversResource(tokenResource: string, requestedPath: string, allowedHosts: readonly string[]): boolean {
  let rest = tokenResource;
  const scheme = SCHEMES.find((s) => rest.toLowerCase().startsWith(s));
  if (scheme !== undefined) rest = rest.slice(scheme.length);
  else if (rest.includes('://')) return false;
  const slash = rest.indexOf('/');
  const authority = (slash < 0 ? rest : rest.slice(0, slash)).toLowerCase();
  let tokenPath = slash < 0 ? '' : rest.slice(slash + 1);
  // One trailing slash is how some signers end a namespace or entity URI.
  if (tokenPath.endsWith('/')) tokenPath = tokenPath.slice(0, -1);
  const hostMatch = /^([a-z0-9.-]+)(?::(\d{1,5}))?$/.exec(authority);
  const host = hostMatch?.[1];
  if (host === undefined || !allowedHosts.includes(host)) return false;
  const tokenSegments = segmentsOf(tokenPath);
  const requested = segmentsOf(requestedPath.startsWith('/') ? requestedPath.slice(1) : requestedPath);
  if (tokenSegments === undefined || requested === undefined || tokenSegments.length > requested.length) return false;
  return tokenSegments.every((segment, i) => segment.toLowerCase() === requested[i]?.toLowerCase());
}

/** Why a token's claims (not its signature) are refused, or undefined when they hold. */
export type SasClaimsRefusal = 'expired' | 'lifetime_too_long' | 'wrong_resource';

export function checkSasClaims(parsed: ParsedSasToken, check: { readonly requestedPath: string; readonly allowedHosts: readonly string[]; readonly nowSeconds: number; readonly maxLifetimeSeconds: number }): SasClaimsRefusal | undefined {
  if (parsed.expiresAt <= check.nowSeconds) return 'expired';
  if (parsed.expiresAt - check.nowSeconds > check.maxLifetimeSeconds) return 'lifetime_too_long';
  if (!coversResource(parsed.resource, check.requestedPath, check.allowedHosts)) return 'wrong_resource';
  return undefined;
}
