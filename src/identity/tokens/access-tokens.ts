import { createPublicKey, type KeyObject } from 'node:crypto';
import { jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { RampartConfig } from '../../config/schema.ts';
import { ACTIVE_KEY_CACHE_MS, type Keyring, type PublicJwk } from '../../crypto/keyring.ts';
import type { Clock } from '../../kernel/clock.ts';
import { RampartError } from '../../kernel/errors.ts';
import { randomToken } from '../../kernel/ids.ts';
import type { Db } from '../../storage/database.ts';
import { SERVICE_SCOPES, type ServiceActor, type ServiceScope } from '../rbac.ts';
import { principalVersion, type ServicePrincipal } from './principals.ts';

// Access tokens for service principals: JWTs in the RFC 9068 profile
// (`typ: at+jwt`), signed with the keyring's Ed25519 `token` key. Verification
// pins the algorithm, issuer, audience and type, resolves the key only among
// this Rampart's token keys (current and rotated out), and then consults the
// database, so a disabled or changed principal loses its tokens at once.

export type TokenConfig = RampartConfig['identity']['tokens'];

/** No token lives longer than this, whatever the configuration says. */
export const MAX_TOKEN_TTL_SECONDS = 600;
/** Allowed clock skew between issuer and verifier. */
export const CLOCK_TOLERANCE_SECONDS = 5;
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** Private claim: the principal's version when the token was issued (see principalVersion). */
const VERSION_CLAIM = 'rampart_pv';
const REQUIRED_CLAIMS = ['iss', 'aud', 'sub', 'client_id', 'scope', 'iat', 'nbf', 'exp', 'jti', VERSION_CLAIM];

export interface IssueAccessTokenOptions {
  readonly keyring: Keyring;
  readonly clock: Clock;
  readonly config: TokenConfig;
  /** Must be active; the token names it as `sub` and `client_id`. */
  readonly principal: ServicePrincipal;
  /** Non-empty, and each granted to the principal. */
  readonly scopes: readonly ServiceScope[];
}

export interface IssuedAccessToken {
  /** The signed JWT. A bearer credential: never log it. */
  readonly accessToken: string;
  readonly tokenType: 'Bearer';
  /** Seconds until it expires. */
  readonly expiresIn: number;
  /** Space-separated granted scopes. */
  readonly scope: string;
  /** The `jti`: safe to log and audit. */
  readonly tokenId: string;
  readonly expiresAt: string;
}

export function tokenTtlSeconds(config: TokenConfig): number {
  return Math.max(1, Math.min(Math.trunc(config.ttlSeconds), MAX_TOKEN_TTL_SECONDS));
}

export async function issueAccessToken(options: IssueAccessTokenOptions): Promise<IssuedAccessToken> {
  const { principal, scopes } = options;
  if (principal.status !== 'active') throw new RampartError('identity.invalid_state', `service principal ${principal.id} is ${principal.status}: no token`);
  if (scopes.length === 0 || scopes.some((s) => !principal.scopes.includes(s))) {
    throw new RampartError('request.invalid', `scopes ${scopes.join(' ')} are not a non-empty subset of ${principal.id}'s`);
  }
  const ttl = tokenTtlSeconds(options.config);
  const issuedAt = Math.floor(options.clock.now().getTime() / 1000);
  const expiresAt = issuedAt + ttl;
  const tokenId = randomToken(16);
  const scope = SERVICE_SCOPES.filter((s) => scopes.includes(s)).join(' ');
  const key = await options.keyring.signingKey('token');
  const accessToken = await new SignJWT({ client_id: principal.clientId, scope, [VERSION_CLAIM]: principalVersion(principal) })
    .setProtectedHeader({ alg: 'EdDSA', typ: ACCESS_TOKEN_TYPE, kid: key.kid })
    .setIssuer(options.config.issuer)
    .setAudience(options.config.audience)
    .setSubject(principal.id)
    .setIssuedAt(issuedAt)
    .setNotBefore(issuedAt)
    .setExpirationTime(expiresAt)
    .setJti(tokenId)
    .sign(key.privateKey);
  return { accessToken, tokenType: 'Bearer', expiresIn: ttl, scope, tokenId, expiresAt: new Date(expiresAt * 1000).toISOString() };
}

export interface AccessTokenVerifierOptions {
  readonly db: Db;
  readonly keyring: Keyring;
  readonly clock: Clock;
  readonly config: TokenConfig;
}

export type AccessTokenVerifier = (token: string) => Promise<ServiceActor>;

interface KeySet {
  readonly keys: ReadonlyMap<string, KeyObject>;
  readonly loadedAt: number;
}

/** The published keys that sign access tokens (not receipts or audit checkpoints), by kid. */
async function loadTokenKeys(db: Db, keyring: Keyring): Promise<Map<string, KeyObject>> {
  const [jwks, tokenKids] = await Promise.all([
    keyring.publicJwks(),
    db.selectFrom('signing_keys').select('kid').where('purpose', '=', 'token').execute(),
  ]);
  const allowed = new Set(tokenKids.map((row) => row.kid));
  const keys = new Map<string, KeyObject>();
  for (const jwk of jwks.keys) {
    if (!allowed.has(jwk.kid) || !isEd25519(jwk)) continue;
    keys.set(jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }));
  }
  return keys;
}

function isEd25519(jwk: PublicJwk): boolean {
  return jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && typeof jwk.x === 'string';
}

function refuse(reason: string, cause?: unknown): RampartError {
  return new RampartError('auth.token_invalid', reason, cause === undefined ? {} : { cause });
}

/** A claim that must be a non-empty string (read after jose has checked signature, type and times). */
function claimString(payload: JWTPayload, name: string): string {
  const value = payload[name];
  if (typeof value !== 'string' || value.length === 0) throw refuse(`claim ${name} missing or not a string`);
  return value;
}

/**
 * A bearer-token verifier for `installAccessControl`: resolves to the service
 * actor, or throws `auth.token_invalid` with the reason (for logs only).
 */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  const { db, keyring, clock, config } = options;
  let cached: KeySet | undefined;
  let loading: Promise<KeySet> | undefined;

  const load = (): Promise<KeySet> => {
    // Concurrent refreshes share one database read.
    loading ??= loadTokenKeys(db, keyring)
      .then((keys) => (cached = { keys, loadedAt: clock.now().getTime() }))
      .finally(() => (loading = undefined));
    return loading;
  };

  const resolveKey = async (kid: string): Promise<KeyObject> => {
    const isFresh = cached !== undefined && clock.now().getTime() - cached.loadedAt < ACTIVE_KEY_CACHE_MS;
    const keys = isFresh && cached !== undefined ? cached : await load();
    // A kid missing from a cached set may be a key created since: look once more, then refuse.
    const found = keys.keys.get(kid) ?? (isFresh ? (await load()).keys.get(kid) : undefined);
    if (found === undefined) throw refuse(`token signed with unknown key ${kid.slice(0, 64)}`);
    return found;
  };

  return async (token: string): Promise<ServiceActor> => {
    if (token.length > 4096) throw refuse('token too long');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(
        token,
        async (header) => {
          if (header.alg !== 'EdDSA') throw refuse(`token algorithm ${String(header.alg)} not accepted`);
          if (typeof header.kid !== 'string' || header.kid.length === 0) throw refuse('token names no key');
          return resolveKey(header.kid);
        },
        {
          algorithms: ['EdDSA'],
          issuer: config.issuer,
          audience: config.audience,
          typ: ACCESS_TOKEN_TYPE,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          currentDate: clock.now(),
          requiredClaims: REQUIRED_CLAIMS,
        },
      ));
    } catch (error) {
      if (error instanceof RampartError) throw error;
      const code = typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : 'error';
      throw refuse(`token refused: ${code}: ${(error as Error).message}`, error);
    }

    const now = clock.now().getTime() / 1000;
    const iat = payload.iat ?? Number.NaN;
    const exp = payload.exp ?? Number.NaN;
    if (!(iat <= now + CLOCK_TOLERANCE_SECONDS)) throw refuse('token issued in the future');
    if (!(exp - iat <= MAX_TOKEN_TTL_SECONDS)) throw refuse(`token lifetime ${exp - iat} s exceeds ${MAX_TOKEN_TTL_SECONDS} s`);

    const subject = claimString(payload, 'sub');
    const clientId = claimString(payload, 'client_id');
    const tokenId = claimString(payload, 'jti');
    const version = claimString(payload, VERSION_CLAIM);
    const requested = claimString(payload, 'scope').split(' ');
    if (requested.some((s) => !(SERVICE_SCOPES as readonly string[]).includes(s))) throw refuse('token carries a scope that is not grantable');

    const row = await db.selectFrom('service_principals').select(['id', 'name', 'client_id', 'scopes', 'status', 'updated_at']).where('id', '=', subject).executeTakeFirst();
    if (row === undefined) throw refuse(`service principal ${subject.slice(0, 64)} does not exist`);
    if (row.status !== 'active') throw refuse(`service principal ${row.id} is ${row.status}`);
    if (row.client_id !== clientId) throw refuse(`token client_id does not match service principal ${row.id}`);
    if (version !== principalVersion({ id: row.id, updatedAt: row.updated_at })) throw refuse(`service principal ${row.id} changed since the token was issued`);
    const granted = parseGranted(row.scopes);
    const scopes = SERVICE_SCOPES.filter((s) => requested.includes(s));
    if (scopes.some((s) => !granted.includes(s))) throw refuse(`token scopes are no longer granted to ${row.id}`);
    return { kind: 'service', id: row.id, name: row.name, scopes, tokenId };
  };
}

function parseGranted(stored: string): readonly string[] {
  try {
    const parsed: unknown = JSON.parse(stored);
    return Array.isArray(parsed) ? parsed.filter((s): s is string => typeof s === 'string') : [];
  } catch {
    return [];
  }
}
