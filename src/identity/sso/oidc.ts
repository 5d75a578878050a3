import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import type { RampartConfig } from '../../config/schema.ts';
import type { Clock } from '../../kernel/clock.ts';
import { ConfigError, RampartError } from '../../kernel/errors.ts';
import type { Db } from '../../storage/database.ts';
import type { Role } from '../rbac.ts';

// Single sign-on through an external OpenID Connect provider: the
// authorization code flow with PKCE (S256), a fresh state and nonce per
// sign-in, and an ID token validated by openid-client (signature against the
// provider's published keys, iss, aud, exp, nonce). The database keeps only the
// SHA-256 of the state; the row is burned by a conditional UPDATE before the
// code is exchanged, so a callback can be used once even when two arrive at the
// same time. Refusals are RampartErrors whose message (for logs) says why; no
// message carries a state, code or token.

export type SsoConfig = RampartConfig['identity']['sso'];

/** How long a started sign-in may take before its callback is refused. */
export const SSO_REQUEST_TTL_MS = 10 * 60_000;

/** A Rampart username: a letter, then letters, digits, `.`, `_` or `-`; 2 to 64 characters. */
export const SSO_USERNAME_PATTERN = /^[a-z][a-z0-9._-]{1,63}$/;

const MAX_STATE_LENGTH = 512;
const DEFAULT_TIMEOUT_SECONDS = 10;

/** Who the provider vouched for, mapped onto Rampart. */
export interface SsoIdentity {
  /** The ID token's `iss`. */
  readonly issuer: string;
  /** The ID token's `sub`: with `issuer`, the stable key of the external identity. */
  readonly subject: string;
  /** `usernameClaim`, lower-cased and checked against SSO_USERNAME_PATTERN. */
  readonly username: string;
  /** The first `roleMap` entry (in its key order) among the user's `rolesClaim` values. */
  readonly role: Role;
  /** True when `amr` holds one of `mfaAmrValues` or `acr` is one of `mfaAcrValues`. */
  readonly mfaAsserted: boolean;
  readonly amr: string[];
  readonly acr?: string;
}

export interface SsoStart {
  /** Where to send the browser. */
  readonly authorizationUrl: string;
}

export interface SsoDiscoverOptions {
  /** Accept an `http:` issuer and endpoints. Tests against a local provider only; never in production. */
  readonly allowInsecureHttp?: boolean;
  /** Seconds to wait for each request to the provider (default 10). */
  readonly timeoutSeconds?: number;
}

/** The stored form of a state: its SHA-256, base64url. */
export function ssoStateHash(state: string): string {
  return createHash('sha256').update(state).digest('base64url');
}

function failed(reason: string): RampartError {
  return new RampartError('sso.failed', `single sign-on failed: ${reason}`);
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** Configuration problems, then the issuer URL; throws ConfigError. */
function checkConfig(config: SsoConfig, allowInsecureHttp: boolean): { issuer: URL; redirectUri: URL } {
  const invalid: string[] = [];
  const insecure: string[] = [];
  const issuer = parseUrl(config.issuer);
  if (issuer === undefined || (issuer.protocol !== 'https:' && issuer.protocol !== 'http:')) {
    invalid.push('identity.sso.issuer: set the provider\'s issuer URL, e.g. https://login.example.com/realms/fleet');
  } else if (issuer.search !== '' || issuer.hash !== '' || issuer.username !== '' || issuer.password !== '' || issuer.pathname.includes('/.well-known/')) {
    invalid.push('identity.sso.issuer: give the issuer identifier itself (no query, fragment, credentials or /.well-known/ path); its discovery document is found from it');
  } else if (issuer.protocol !== 'https:' && !allowInsecureHttp) {
    insecure.push(`identity.sso.issuer: ${issuer.origin} is not https; the provider's keys and tokens must come over TLS`);
  }
  if (config.clientId === '') invalid.push('identity.sso.clientId: set the client id registered at the provider');
  if (config.clientSecret === '') invalid.push('identity.sso.clientSecret: set RAMPART_SSO_CLIENT_SECRET to the client secret registered at the provider');
  const redirectUri = parseUrl(config.redirectUri);
  if (redirectUri === undefined || (redirectUri.protocol !== 'https:' && redirectUri.protocol !== 'http:') || redirectUri.search !== '' || redirectUri.hash !== '') {
    invalid.push('identity.sso.redirectUri: set this Rampart\'s callback, <app URL>/api/v1/auth/sso/callback, exactly as registered at the provider');
  } else if (redirectUri.protocol !== 'https:' && !isLoopback(redirectUri.hostname) && !allowInsecureHttp) {
    insecure.push(`identity.sso.redirectUri: ${redirectUri.origin} is not https; authorization codes must not cross the network in clear`);
  }
  if (Object.keys(config.roleMap).length === 0) {
    invalid.push(`identity.sso.roleMap: map at least one ${config.rolesClaim} value to a role; with none every sign-in is refused`);
  }
  if (invalid.length > 0) throw new ConfigError('config.invalid', invalid);
  if (insecure.length > 0) throw new ConfigError('config.insecure', insecure);
  if (issuer === undefined || redirectUri === undefined) throw new ConfigError('config.invalid', ['identity.sso: issuer and redirectUri must be URLs']);
  return { issuer, redirectUri };
}

/** A one-line, secret-free account of an openid-client failure for the log (messages and codes only, never values). */
function describe(error: unknown): string {
  let text: string;
  if (error instanceof oidc.ResponseBodyError || error instanceof oidc.AuthorizationResponseError) {
    text = `${error.error}${error.error_description === undefined ? '' : ` (${error.error_description})`}`;
  } else if (error instanceof Error) {
    // openid-client wraps the specific check that failed (oauth4webapi's) as the cause.
    const code = (error as { code?: unknown }).code;
    const inner = error.cause instanceof Error ? error.cause : undefined;
    const detail = inner?.cause;
    const claim = typeof detail === 'object' && detail !== null && typeof (detail as { claim?: unknown }).claim === 'string' ? (detail as { claim: string }).claim : undefined;
    text = `${typeof code === 'string' ? code : error.name}: ${inner?.message ?? error.message}${claim === undefined ? '' : ` (claim ${claim})`}`;
  } else {
    text = String(error);
  }
  return text.replace(/\s+/g, ' ').slice(0, 300);
}

function stringClaim(claims: oidc.IDToken, name: string): string | undefined {
  const value = claims[name];
  return typeof value === 'string' ? value : undefined;
}

function stringsClaim(claims: oidc.IDToken, name: string): string[] {
  const value = claims[name];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

export class SsoClient {
  readonly #config: SsoConfig;
  readonly #oidc: oidc.Configuration;
  readonly #redirectUri: URL;
  readonly #scope: string;

  private constructor(config: SsoConfig, configuration: oidc.Configuration, redirectUri: URL) {
    this.#config = config;
    this.#oidc = configuration;
    this.#redirectUri = redirectUri;
    this.#scope = [...new Set(['openid', ...config.scopes])].join(' ');
  }

  /**
   * Reads the provider's discovery document (`<issuer>/.well-known/openid-configuration`)
   * and returns a client for it. Throws `sso.disabled` when SSO is off,
   * ConfigError (`config.invalid`, `config.insecure`) for unusable settings — an
   * `http:` issuer is refused unless `allowInsecureHttp` — and `sso.unavailable`
   * when the document cannot be read or names another issuer.
   */
  static async discover(config: SsoConfig, options: SsoDiscoverOptions = {}): Promise<SsoClient> {
    if (!config.enabled) throw new RampartError('sso.disabled', 'single sign-on is not enabled (identity.sso.enabled is false)');
    const allowInsecureHttp = options.allowInsecureHttp === true;
    const { issuer, redirectUri } = checkConfig(config, allowInsecureHttp);
    let configuration: oidc.Configuration;
    try {
      configuration = await oidc.discovery(
        issuer,
        config.clientId,
        { client_secret: config.clientSecret, redirect_uris: [redirectUri.href], response_types: ['code'] },
        oidc.ClientSecretBasic(config.clientSecret),
        {
          // Only when the caller asks (tests against a local provider); checkConfig already refused http otherwise.
          // eslint-disable-next-line @typescript-eslint/no-deprecated
          execute: allowInsecureHttp ? [oidc.allowInsecureRequests] : [],
          timeout: options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
        },
      );
    } catch (error) {
      throw new RampartError('sso.unavailable', `cannot use the OpenID provider ${issuer.href}: ${describe(error)}`);
    }
    // ID tokens from the token endpoint are checked against the provider's
    // published keys too, not only trusted because they came over TLS.
    oidc.enableNonRepudiationChecks(configuration);
    return new SsoClient(config, configuration, redirectUri);
  }

  /** The issuer identifier from the provider's discovery document. */
  get issuer(): string {
    return this.#oidc.serverMetadata().issuer;
  }

  /**
   * Starts a sign-in: stores the request (state hash, nonce, PKCE verifier,
   * ten-minute expiry) and returns the provider URL to send the browser to.
   * Expired requests are purged on the way.
   */
  async start(db: Db, clock: Clock): Promise<SsoStart> {
    const now = clock.now();
    await db.deleteFrom('sso_requests').where('expires_at', '<=', now.toISOString()).execute();

    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const codeChallenge = await oidc.calculatePKCECodeChallenge(codeVerifier);
    await db
      .insertInto('sso_requests')
      .values({
        state_hash: ssoStateHash(state),
        nonce,
        code_verifier: codeVerifier,
        expires_at: new Date(now.getTime() + SSO_REQUEST_TTL_MS).toISOString(),
        used_at: null,
        created_at: now.toISOString(),
      })
      .execute();

    const url = oidc.buildAuthorizationUrl(this.#oidc, {
      response_type: 'code',
      redirect_uri: this.#redirectUri.href,
      scope: this.#scope,
      state,
      nonce,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
    });
    return { authorizationUrl: url.href };
  }

  /**
   * Completes a sign-in from the provider's redirect to the callback. Only the
   * callback's query is read; it is applied to the configured redirectUri, so
   * the URL the route reconstructs (behind proxies) does not matter.
   *
   * The request is burned first (single use, even under concurrency), then the
   * code is exchanged and the ID token validated. Throws `sso.failed` (unknown,
   * replayed or expired state, provider error, invalid ID token), `sso.unmapped`
   * (no roleMap entry for the user) or `sso.username_invalid`.
   */
  async finish(db: Db, clock: Clock, callbackUrl: URL): Promise<SsoIdentity> {
    const states = callbackUrl.searchParams.getAll('state');
    const state = states[0];
    if (states.length !== 1 || state === undefined || state === '' || state.length > MAX_STATE_LENGTH) {
      throw failed('the callback does not carry exactly one usable state parameter');
    }
    const stateHash = ssoStateHash(state);
    const now = clock.now().toISOString();

    const burned = await db
      .updateTable('sso_requests')
      .set({ used_at: now })
      .where('state_hash', '=', stateHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returning(['nonce', 'code_verifier'])
      .execute();
    const request = burned[0];
    if (burned.length !== 1 || request === undefined) {
      const row = await db.selectFrom('sso_requests').select(['used_at', 'expires_at']).where('state_hash', '=', stateHash).executeTakeFirst();
      if (row === undefined) throw failed('unknown state: no such sign-in request (never started here, or purged after it expired)');
      if (row.used_at !== null) throw failed(`the sign-in request was already used at ${row.used_at} (replayed callback)`);
      throw failed(`the sign-in request expired at ${row.expires_at}`);
    }

    const current = new URL(this.#redirectUri);
    current.search = callbackUrl.search;
    let claims: oidc.IDToken | undefined;
    try {
      const tokens = await oidc.authorizationCodeGrant(this.#oidc, current, {
        expectedState: state,
        expectedNonce: request.nonce,
        pkceCodeVerifier: request.code_verifier,
        idTokenExpected: true,
      });
      claims = tokens.claims();
    } catch (error) {
      throw failed(`the provider's response was refused: ${describe(error)}`);
    }
    if (claims === undefined) throw failed('the token response has no ID token');
    return this.#identity(claims);
  }

  #identity(claims: oidc.IDToken): SsoIdentity {
    const config = this.#config;
    const who = `${claims.iss} subject ${claims.sub}`;

    const values = stringsClaim(claims, config.rolesClaim);
    const mapped = Object.keys(config.roleMap).find((value) => values.includes(value));
    const role = mapped === undefined ? undefined : config.roleMap[mapped];
    if (role === undefined) {
      const shown = values.length === 0 ? 'none' : values.slice(0, 20).join(', ').slice(0, 300);
      throw new RampartError('sso.unmapped', `single sign-on refused: ${who} has no ${config.rolesClaim} value listed in identity.sso.roleMap (has: ${shown})`);
    }

    const rawUsername = stringClaim(claims, config.usernameClaim);
    const username = rawUsername?.toLowerCase();
    if (username === undefined || !SSO_USERNAME_PATTERN.test(username)) {
      throw new RampartError(
        'sso.username_invalid',
        `single sign-on refused: ${who} ${rawUsername === undefined ? `has no string ${config.usernameClaim} claim` : `has ${config.usernameClaim} that is not a valid username (${JSON.stringify(rawUsername.slice(0, 80))})`}`,
      );
    }

    const amr = stringsClaim(claims, 'amr');
    const acr = stringClaim(claims, 'acr');
    const mfaAsserted = amr.some((value) => config.mfaAmrValues.includes(value)) || (acr !== undefined && config.mfaAcrValues.includes(acr));
    return {
      issuer: claims.iss,
      subject: claims.sub,
      username,
      role,
      mfaAsserted,
      amr,
      ...(acr === undefined ? {} : { acr }),
    };
  }
}
