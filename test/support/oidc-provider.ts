import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompactSign, decodeJwt, decodeProtectedHeader } from 'jose';
import type { RampartConfig } from '../../src/config/schema.ts';

// A real OpenID provider (the `oidc-provider` package) on 127.0.0.1 inside the
// test process, so single sign-on is tested against the actual protocol rather
// than a mock of it. There is no browser: the provider's interaction step is a
// tiny endpoint that signs in a configured user and grants consent, and
// `loginThroughProvider` walks the redirects with fetch and a cookie jar from
// the authorization URL to the callback URL.
//
// For negative tests the next token response's ID token can be tampered with
// (a flipped signature byte, an altered payload, or claims re-signed with the
// provider's own key), and the provider's signing key is available to forge
// validly-signed tokens.

/** A user the provider can sign in. */
export interface TestUser {
  /** `sub`; defaults to a stable value derived from the login name. */
  readonly sub?: string;
  /** Claims released in the ID token (for example preferred_username, groups, email). */
  readonly claims: Readonly<Record<string, unknown>>;
  /** Authentication methods the provider asserts (`amr`). */
  readonly amr?: readonly string[];
  /** Authentication context class the provider asserts (`acr`). */
  readonly acr?: string;
}

/**
 * How to damage the next ID token the token endpoint returns:
 * - `signature`: flip one bit of the signature (the payload is untouched);
 * - `payload`: change claims without re-signing (the signature no longer matches);
 * - `resign`: change claims and sign again with the provider's own key, so the
 *   signature is valid and only the claims are wrong (nonce, aud, iss, exp…).
 */
export type IdTokenTamper =
  | { readonly kind: 'signature' }
  | { readonly kind: 'payload'; readonly claims: Readonly<Record<string, unknown>> }
  | { readonly kind: 'resign'; readonly claims: Readonly<Record<string, unknown>> };

export interface TestOidcProviderOptions {
  /** The client's single registered redirect URI. Nothing needs to listen there. */
  readonly redirectUri?: string;
  /** Users by login name. */
  readonly users?: Readonly<Record<string, TestUser>>;
}

export interface TestOidcProvider {
  /** `http://127.0.0.1:<port>` (no trailing slash), the provider's issuer identifier. */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUri: string;
  /** Users by login name; tests may add or replace users between sign-ins. */
  readonly users: Map<string, TestUser>;
  /** Errors the provider reported as server errors (should stay empty). */
  readonly serverErrors: unknown[];
  /** How many token responses the provider has sent. */
  readonly tokenResponses: number;
  /** `identity.sso` settings for this provider, with `patch` applied. */
  ssoConfig(patch?: Partial<SsoSettings>): SsoSettings;
  /** Applies `tamper` to the ID token of the next successful token response only. */
  tamperNextIdToken(tamper: IdTokenTamper): void;
  /** Signs `payload` as a JWT with the provider's own ID token key (RS256, its kid). */
  sign(payload: Readonly<Record<string, unknown>>): Promise<string>;
  close(): Promise<void>;
}

type SsoSettings = RampartConfig['identity']['sso'];

export const TEST_REDIRECT_URI = 'https://rampart.test/api/v1/auth/sso/callback';

// oidc-provider ships without type declarations; this is the slice of its API
// used here.
interface KoaContext {
  readonly path: string;
  readonly method: string;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  status: number;
  body: unknown;
  redirect(url: string): void;
  set(field: string, value: string): void;
}
type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;
interface InteractionDetails {
  readonly uid: string;
  readonly prompt: { readonly name: string; readonly details: Readonly<Record<string, unknown>> };
  readonly params: Readonly<Record<string, unknown>>;
}
interface Grant {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  save(): Promise<string>;
}
interface InteractionResult {
  readonly login?: { readonly accountId: string; readonly amr?: string[]; readonly acr?: string; readonly remember?: boolean };
  readonly consent?: { readonly grantId: string };
}
interface Provider {
  callback(): RequestListener;
  use(middleware: KoaMiddleware): void;
  on(event: 'server_error', listener: (ctx: unknown, error: unknown) => void): void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
  interactionResult(req: IncomingMessage, res: ServerResponse, result: InteractionResult, options: { mergeWithLastSubmission: boolean }): Promise<string>;
  readonly Grant: new (init: { accountId: string; clientId: string }) => Grant;
}
interface ProviderModule {
  readonly Provider: new (issuer: string, configuration: Record<string, unknown>) => Provider;
}
interface Account {
  readonly accountId: string;
  claims(): Promise<Record<string, unknown>>;
}

interface AdapterPayload {
  readonly uid?: unknown;
  readonly userCode?: unknown;
  readonly grantId?: unknown;
  consumed?: number;
}
interface Adapter {
  upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void>;
  find(id: string): Promise<AdapterPayload | undefined>;
  findByUid(uid: string): Promise<AdapterPayload | undefined>;
  findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

/** The provider's storage (sessions, codes, grants…): a Map per provider, gone with it. */
function memoryAdapter(): (model: string) => Adapter {
  const store = new Map<string, { payload: AdapterPayload; expiresAt: number }>();
  return (model) => {
    const key = (id: string): string => `${model}:${id}`;
    const live = (k: string): AdapterPayload | undefined => {
      const entry = store.get(k);
      if (entry === undefined) return undefined;
      if (entry.expiresAt <= Date.now()) {
        store.delete(k);
        return undefined;
      }
      return entry.payload;
    };
    const findBy = (field: 'uid' | 'userCode', value: string): AdapterPayload | undefined => {
      for (const [k, entry] of store) if (k.startsWith(`${model}:`) && entry.payload[field] === value) return live(k);
      return undefined;
    };
    const copy = (payload: AdapterPayload | undefined): AdapterPayload | undefined => (payload === undefined ? undefined : { ...payload });
    return {
      upsert: (id, payload, expiresIn) => {
        store.set(key(id), { payload: { ...payload }, expiresAt: expiresIn === undefined ? Infinity : Date.now() + expiresIn * 1000 });
        return Promise.resolve();
      },
      find: (id) => Promise.resolve(copy(live(key(id)))),
      findByUid: (uid) => Promise.resolve(copy(findBy('uid', uid))),
      findByUserCode: (userCode) => Promise.resolve(copy(findBy('userCode', userCode))),
      consume: (id) => {
        const payload = live(key(id));
        if (payload !== undefined) payload.consumed = Math.floor(Date.now() / 1000);
        return Promise.resolve();
      },
      destroy: (id) => {
        store.delete(key(id));
        return Promise.resolve();
      },
      revokeByGrantId: (grantId) => {
        for (const [k, entry] of store) if (entry.payload.grantId === grantId) store.delete(k);
        return Promise.resolve();
      },
    };
  };
}

async function loadProvider(): Promise<ProviderModule> {
  const specifier: string = 'oidc-provider';
  return (await import(specifier)) as ProviderModule;
}

function listen(handler: RequestListener): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.closeAllConnections();
            server.close((error) => {
              if (error === undefined) done();
              else fail(error);
            });
          }),
      });
    });
  });
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function subjectOf(login: string, user: TestUser): string {
  return user.sub ?? `sub-${login}`;
}

function b64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

async function signWith(key: KeyObject, kid: string, payload: Readonly<Record<string, unknown>>): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: 'RS256', kid }).sign(key);
}

async function applyTamper(idToken: string, tamper: IdTokenTamper, key: KeyObject, kid: string): Promise<string> {
  const [header = '', payload = '', signature = ''] = idToken.split('.');
  switch (tamper.kind) {
    case 'signature': {
      const bytes = Buffer.from(signature, 'base64url');
      bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0x01;
      return `${header}.${payload}.${bytes.toString('base64url')}`;
    }
    case 'payload':
      return `${header}.${b64urlJson({ ...decodeJwt(idToken), ...tamper.claims })}.${signature}`;
    case 'resign': {
      const protectedHeader = decodeProtectedHeader(idToken);
      return signWith(key, protectedHeader.kid ?? kid, { ...decodeJwt(idToken), ...tamper.claims });
    }
  }
}

/** Starts a provider on 127.0.0.1:<free port> with one confidential client (client_secret_basic, PKCE required). */
export async function startOidcProvider(options: TestOidcProviderOptions = {}): Promise<TestOidcProvider> {
  const { Provider: ProviderClass } = await loadProvider();
  const redirectUri = options.redirectUri ?? TEST_REDIRECT_URI;
  const clientId = 'rampart-test';
  const clientSecret = randomBytes(32).toString('base64url');
  const users = new Map<string, TestUser>(Object.entries(options.users ?? {}));
  const serverErrors: unknown[] = [];
  let tokenResponses = 0;
  let pendingTamper: IdTokenTamper | undefined;

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `test-${randomBytes(6).toString('hex')}`;
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };

  // The port must be known before the provider exists (it is part of the issuer),
  // so listen first and hand requests to the provider once it is built.
  let handler: RequestListener = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = await listen((req, res) => {
    handler(req, res);
  });
  const issuer = `http://127.0.0.1:${server.port}`;

  const accountFor = (sub: string): { login: string; user: TestUser } | undefined => {
    for (const [login, user] of users) if (subjectOf(login, user) === sub) return { login, user };
    return undefined;
  };

  const provider = new ProviderClass(issuer, {
    adapter: memoryAdapter(),
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'RS256',
      },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    pkce: { required: () => true },
    // End-user claims go into the ID token itself (not only the userinfo endpoint).
    conformIdTokenClaims: false,
    // acr and amr ride with the openid scope, so every ID token states how the user signed in.
    claims: {
      openid: ['sub', 'acr', 'amr', 'auth_time'],
      profile: ['preferred_username', 'name', 'groups'],
      email: ['email', 'email_verified'],
      acr: null,
      amr: null,
      auth_time: null,
      sid: null,
      iss: null,
    },
    features: { devInteractions: { enabled: false } },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    findAccount: (_ctx: unknown, sub: string): Account | undefined => {
      const found = accountFor(sub);
      if (found === undefined) return undefined;
      return { accountId: sub, claims: () => Promise.resolve({ ...found.user.claims, sub }) };
    },
  });
  provider.on('server_error', (_ctx, error) => {
    serverErrors.push(error);
  });

  provider.use(async (ctx, next) => {
    if (ctx.path.startsWith('/interaction/')) {
      await interaction(ctx);
      return;
    }
    await next();
    if (ctx.method === 'POST' && ctx.path === '/token' && ctx.status === 200) {
      tokenResponses += 1;
      const tamper = pendingTamper;
      pendingTamper = undefined;
      const body = ctx.body as Record<string, unknown>;
      if (tamper !== undefined && typeof body['id_token'] === 'string') {
        body['id_token'] = await applyTamper(body['id_token'], tamper, privateKey, kid);
      }
    }
  });

  // GET /interaction/<uid>: what the provider wants (JSON). POST
  // /interaction/<uid>: form `login` (and optionally `amr`, space-separated,
  // and `acr`) signs that user in and grants the requested scopes.
  async function interaction(ctx: KoaContext): Promise<void> {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (ctx.method === 'GET') {
      ctx.set('cache-control', 'no-store');
      ctx.body = { uid: details.uid, prompt: details.prompt.name };
      return;
    }
    const form = await readForm(ctx.req);
    const login = form.get('login') ?? '';
    const user = users.get(login);
    if (user === undefined) {
      ctx.status = 400;
      ctx.body = { error: `no test user ${login}` };
      return;
    }
    const accountId = subjectOf(login, user);
    const grant = new provider.Grant({ accountId, clientId });
    const scope = details.params['scope'];
    if (typeof scope === 'string') grant.addOIDCScope(scope);
    const missingClaims = details.prompt.details['missingOIDCClaims'];
    if (Array.isArray(missingClaims)) grant.addOIDCClaims(missingClaims.filter((c): c is string => typeof c === 'string'));
    const grantId = await grant.save();
    const amr = form.has('amr') ? (form.get('amr') ?? '').split(' ').filter((v) => v !== '') : user.amr;
    const acr = form.get('acr') ?? user.acr;
    const returnTo = await provider.interactionResult(
      ctx.req,
      ctx.res,
      {
        login: { accountId, remember: false, ...(amr === undefined ? {} : { amr: [...amr] }), ...(acr === undefined ? {} : { acr }) },
        consent: { grantId },
      },
      { mergeWithLastSubmission: false },
    );
    ctx.status = 303;
    ctx.redirect(returnTo);
  }

  handler = provider.callback();

  return {
    issuer,
    clientId,
    clientSecret,
    redirectUri,
    users,
    serverErrors,
    get tokenResponses() {
      return tokenResponses;
    },
    ssoConfig(patch = {}) {
      return {
        enabled: true,
        issuer,
        clientId,
        clientSecret,
        redirectUri,
        scopes: ['openid', 'profile', 'email'],
        usernameClaim: 'preferred_username',
        rolesClaim: 'groups',
        roleMap: {},
        requireIdpMfa: false,
        mfaAmrValues: ['mfa', 'hwk', 'swk', 'otp', 'fido'],
        mfaAcrValues: [],
        ...patch,
      };
    },
    tamperNextIdToken(tamper) {
      pendingTamper = tamper;
    },
    sign(payload) {
      return signWith(privateKey, kid, payload);
    },
    close: server.close,
  };
}

export interface LoginOptions {
  /** Login name of a user configured on the provider. */
  readonly user: string;
  /** Overrides the user's `amr` for this sign-in. */
  readonly amr?: readonly string[];
  /** Overrides the user's `acr` for this sign-in. */
  readonly acr?: string;
}

/**
 * Follows the authorization URL through the provider the way a browser would
 * (manual redirects, a cookie jar), signs `user` in at the interaction step, and
 * returns the callback URL the provider redirects to (with code and state).
 * The callback itself is not requested.
 */
export async function loginThroughProvider(authorizationUrl: string | URL, options: LoginOptions): Promise<URL> {
  const start = new URL(authorizationUrl);
  const redirectUri = start.searchParams.get('redirect_uri');
  if (redirectUri === null) throw new Error('the authorization URL has no redirect_uri');
  const callbackBase = new URL(redirectUri);
  const jar = new Map<string, string>();

  const request = async (url: URL, init: { method: 'GET' } | { method: 'POST'; body: URLSearchParams }): Promise<Response> => {
    const headers = new Headers();
    if (jar.size > 0) headers.set('cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '));
    if (init.method === 'POST') headers.set('content-type', 'application/x-www-form-urlencoded');
    const response = await fetch(url, { method: init.method, headers, redirect: 'manual', ...(init.method === 'POST' ? { body: init.body.toString() } : {}) });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = /;\s*max-age=0/i.test(line) || /;\s*expires=Thu, 01 Jan 1970/i.test(line);
      if (value === '' || expired) jar.delete(name);
      else jar.set(name, value);
    }
    return response;
  };

  let url = start;
  let response = await request(url, { method: 'GET' });
  for (let hop = 0; hop < 20; hop++) {
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get('location');
      if (location === null) throw new Error(`redirect without Location from ${url.pathname}`);
      const next = new URL(location, url);
      await response.body?.cancel();
      if (next.origin === callbackBase.origin && next.pathname === callbackBase.pathname) return next;
      url = next;
      response = await request(url, { method: 'GET' });
      continue;
    }
    if (response.status === 200 && url.pathname.startsWith('/interaction/')) {
      await response.body?.cancel();
      const form = new URLSearchParams({ login: options.user });
      if (options.amr !== undefined) form.set('amr', options.amr.join(' '));
      if (options.acr !== undefined) form.set('acr', options.acr);
      response = await request(url, { method: 'POST', body: form });
      continue;
    }
    throw new Error(`the provider answered ${response.status} at ${url.pathname}: ${(await response.text()).slice(0, 500)}`);
  }
  throw new Error('too many redirects through the provider');
}
