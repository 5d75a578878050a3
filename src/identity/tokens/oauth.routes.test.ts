import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import cookie from '@fastify/cookie';
import type { LightMyRequestResponse } from 'fastify';
import { Keyring } from '../../crypto/keyring.ts';
import { createPlane, type Plane } from '../../http/plane.ts';
import { ManualClock } from '../../kernel/clock.ts';
import { createMemoryLogger } from '../../kernel/logger.ts';
import { createMetrics } from '../../kernel/metrics.ts';
import { sqliteTarget, type OpenedDatabase } from '../../../test/support/databases.ts';
import { masterKey } from '../../../test/support/keys.ts';
import { installAccessControl } from '../access.ts';
import { csrfTokenFor, CSRF_HEADER, SESSION_COOKIE, Sessions } from '../sessions.ts';
import { createAccessTokenVerifier } from './access-tokens.ts';
import { registerOAuthRoutes, registerServicePrincipalRoutes, TOKEN_PATH } from './oauth.routes.ts';
import { ServicePrincipals, type IssuedCredentials } from './principals.ts';
import { alterLast } from '../../../test/support/tamper.ts';

const FORM = 'application/x-www-form-urlencoded';
const UNKNOWN_CLIENT = { clientId: 'sp_AAAAAAAAAAAAAAAAAAAAAA', clientSecret: 'A'.repeat(43) };
/** Why client_secret_basic cannot pass the access-control hook yet. */

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

/** client_secret_basic: each part form-urlencoded, then base64 (RFC 6749 §2.3.1). */
function basic(clientId: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replaceAll('%20', '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}

interface TokenBody {
  access_token?: string;
  token_type?: string;
  expires_in?: number;
  scope?: string;
  error?: string;
  error_description?: string;
}

describe('OAuth token endpoint and service-principal routes', () => {
  let opened: OpenedDatabase;
  let plane: Plane;
  /** The token route on a plane without access control. */
  let bare: Plane;
  let principals: ServicePrincipals;
  let adminCookie: string;
  let adminCsrf: string;
  let reader: IssuedCredentials;
  const clock = new ManualClock(new Date());

  before(async () => {
    opened = await sqliteTarget.open();
    const { database, config } = opened;
    const db = database.db;
    const keyring = await Keyring.open({ database, masterKey: masterKey(), clock, columns: [] });
    const sessions = new Sessions({ db, clock, config: config.identity.sessions });
    principals = new ServicePrincipals({ database, clock });
    plane = await createPlane({ name: 'app', config: config.planes.app, logger: createMemoryLogger('warn').logger, metrics: createMetrics({ defaultMetrics: false }), securityHeaders: false });
    await plane.app.register(cookie);
    installAccessControl(plane.app, {
      db,
      sessions,
      clock,
      stepUpMinutes: config.identity.stepUpMinutes,
      verifyBearer: createAccessTokenVerifier({ db, keyring, clock, config: config.identity.tokens }),
    });
    registerOAuthRoutes(plane.app, { db, principals, keyring, clock, config: config.identity.tokens });
    registerServicePrincipalRoutes(plane.app, { principals });
    bare = await createPlane({ name: 'app', config: config.planes.app, logger: createMemoryLogger('warn').logger, metrics: createMetrics({ defaultMetrics: false }), securityHeaders: false });
    registerOAuthRoutes(bare.app, { db, principals, keyring, clock, config: config.identity.tokens });
    await bare.app.ready();
    // Throwaway routes standing for real ones that need a permission.
    plane.app.get('/api/v1/test/telemetry', { config: { access: { permission: 'telemetry.read' } } }, () => ({ ok: true }));
    plane.app.get('/api/v1/test/users', { config: { access: { permission: 'user.read' } } }, () => ({ ok: true }));
    await plane.app.ready();

    // A signed-in administrator with a fresh second factor.
    const now = clock.now().toISOString();
    await db.insertInto('accounts').values({ id: 'acct_admin', username: 'admin', role: 'admin', status: 'active', created_at: now, updated_at: now }).execute();
    const { token } = await sessions.create(db, { accountId: 'acct_admin', stage: 'active', authMethod: 'password', mfaAt: now, mfaMethod: 'totp', context: { sourceIp: '127.0.0.1', userAgent: 'test' } });
    adminCookie = `${SESSION_COOKIE}=${token}`;
    adminCsrf = csrfTokenFor(token);

    reader = await principals.create({ name: 'telemetry-reader', scopes: ['telemetry.read', 'device.read'] }, { actor: { type: 'cli', id: 'test' } });
  });
  after(async () => {
    await plane.app.close();
    await bare.app.close();
    await opened.cleanup();
  });

  const db = () => opened.database.db;

  function requestToken(options: { body?: string; contentType?: string; authorization?: string; on?: Plane }): Promise<LightMyRequestResponse> {
    return (options.on ?? plane).app.inject({
      method: 'POST',
      url: TOKEN_PATH,
      headers: {
        ...(options.contentType === undefined && options.body === undefined ? {} : { 'content-type': options.contentType ?? FORM }),
        ...(options.authorization === undefined ? {} : { authorization: options.authorization }),
      },
      ...(options.body === undefined ? {} : { payload: options.body }),
    });
  }

  const post = (fields: Record<string, string>, credentials: { clientId: string; clientSecret: string } = reader) =>
    requestToken({ body: form({ grant_type: 'client_credentials', client_id: credentials.clientId, client_secret: credentials.clientSecret, ...fields }) });

  const admin = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    plane.app.inject({ method, url, headers: { cookie: adminCookie, ...(method === 'POST' ? { [CSRF_HEADER]: adminCsrf } : {}) }, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });

  const wrongSecret = () => ({ clientId: reader.clientId, clientSecret: `${reader.clientSecret.slice(0, -2)}xx` });

  const principalRows = () => db().selectFrom('service_principals').selectAll().orderBy('id').execute();

  function assertTokenError(response: LightMyRequestResponse, status: number, error: string): TokenBody {
    assert.equal(response.statusCode, status, response.body);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    assert.equal(response.headers['cache-control'], 'no-store');
    assert.equal(response.headers['pragma'], 'no-cache');
    const body = response.json<TokenBody>();
    assert.equal(body.error, error, response.body);
    assert.equal(typeof body.error_description, 'string');
    assert.match(body.error_description!, /^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/, 'RFC 6749 error_description characters');
    assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description']);
    return body;
  }

  test('client_secret_post issues a bearer token in the RFC 6749 format', async () => {
    const response = await post({});
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.headers['cache-control'], 'no-store');
    assert.equal(response.headers['pragma'], 'no-cache');
    const body = response.json<TokenBody>();
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 300);
    assert.equal(body.scope, 'telemetry.read device.read');
    assert.match(body.access_token!, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  test('a narrower scope can be asked for; a wider or unknown one is invalid_scope', async () => {
    const narrow = await post({ scope: 'device.read' });
    assert.equal(narrow.statusCode, 200, narrow.body);
    assert.equal(narrow.json<TokenBody>().scope, 'device.read');

    const before = await principalRows();
    const narrowPrincipal = await principals.create({ name: 'device-only', scopes: ['device.read'] }, { actor: { type: 'cli', id: 'test' } });
    const rowsBefore = await principalRows();
    assertTokenError(await post({ scope: 'device.read telemetry.read' }, narrowPrincipal), 400, 'invalid_scope');
    assertTokenError(await post({ scope: 'user.manage' }), 400, 'invalid_scope');
    assertTokenError(await post({ scope: 'telemetry.read  device.read' }), 400, 'invalid_scope');
    assert.deepEqual(await principalRows(), rowsBefore);
    assert.equal(rowsBefore.length, before.length + 1);
  });

  test('an unknown client and a wrong secret get the identical answer (client_secret_post)', async () => {
    const rows = await principalRows();
    const postWrong = await post({}, wrongSecret());
    const postUnknown = await post({}, UNKNOWN_CLIENT);
    assertTokenError(postWrong, 400, 'invalid_client');
    assert.equal(postUnknown.statusCode, postWrong.statusCode);
    assert.equal(postUnknown.body, postWrong.body);
    assert.deepEqual(await principalRows(), rows);
  });

  // client_secret_basic, on the token route alone and behind the access-control hook.
  for (const stack of ['token route alone', 'behind access control'] as const) {
    const on = () => (stack === 'token route alone' ? bare : plane);

    test(`client_secret_basic issues a token, credentials form-urlencoded inside Basic (${stack})`, async () => {
      const response = await requestToken({ on: on(), body: form({ grant_type: 'client_credentials' }), authorization: basic(reader.clientId, reader.clientSecret) });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.json<TokenBody>().token_type, 'Bearer');
      assert.equal(response.headers['cache-control'], 'no-store');
    });

    test(`client_secret_basic: an unknown client and a wrong secret get the identical 401 (${stack})`, async () => {
      const rows = await principalRows();
      const grant = form({ grant_type: 'client_credentials' });
      const wrong = wrongSecret();
      const basicWrong = await requestToken({ on: on(), body: grant, authorization: basic(wrong.clientId, wrong.clientSecret) });
      const basicUnknown = await requestToken({ on: on(), body: grant, authorization: basic(UNKNOWN_CLIENT.clientId, UNKNOWN_CLIENT.clientSecret) });
      assertTokenError(basicWrong, 401, 'invalid_client');
      assert.equal(basicWrong.headers['www-authenticate'], 'Basic realm="rampart"');
      assert.equal(basicUnknown.statusCode, basicWrong.statusCode);
      assert.equal(basicUnknown.body, basicWrong.body);
      assert.equal(basicUnknown.headers['www-authenticate'], basicWrong.headers['www-authenticate']);
      const audited = await db().selectFrom('audit_entries').select(['details', 'actor_type']).where('action', '=', 'oauth.token').orderBy('seq', 'desc').limit(2).execute();
      assert.deepEqual(audited.map((e) => [e.actor_type, (JSON.parse(e.details) as Record<string, unknown>)['client_id']]), [['anonymous', UNKNOWN_CLIENT.clientId], ['anonymous', wrong.clientId]]);
      assertTokenError(await requestToken({ on: on(), body: grant, authorization: 'Basic !!!' }), 401, 'invalid_client');
      assertTokenError(await requestToken({ on: on(), body: grant, authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` }), 401, 'invalid_client');
      assert.deepEqual(await principalRows(), rows);
    });

    test(`both client authentication methods at once is invalid_request (${stack})`, async () => {
      const response = await requestToken({
        on: on(),
        body: form({ grant_type: 'client_credentials', client_id: reader.clientId, client_secret: reader.clientSecret }),
        authorization: basic(reader.clientId, reader.clientSecret),
      });
      assertTokenError(response, 400, 'invalid_request');
    });
  }

  test('a disabled client is refused like a wrong secret', async () => {
    const created = await principals.create({ name: 'soon-disabled', scopes: ['telemetry.read'] }, { actor: { type: 'cli', id: 'test' } });
    await principals.disable(created.principal.id, { actor: { type: 'cli', id: 'test' } });
    const response = await post({}, created);
    const wrong = await post({}, { clientId: created.clientId, clientSecret: 'wrong' });
    assertTokenError(response, 400, 'invalid_client');
    assert.equal(response.body, wrong.body);
  });

  test('malformed requests are refused in the OAuth format, leaving service principals unchanged', async () => {
    const rows = await principalRows();
    assertTokenError(await post({ grant_type: 'password' }), 400, 'unsupported_grant_type');
    assertTokenError(await post({ grant_type: 'authorization_code' }), 400, 'unsupported_grant_type');
    assertTokenError(await requestToken({ body: form({ client_id: reader.clientId, client_secret: reader.clientSecret }) }), 400, 'invalid_request');
    assertTokenError(await requestToken({ body: `${form({ grant_type: 'client_credentials', client_id: reader.clientId, client_secret: reader.clientSecret })}&grant_type=client_credentials` }), 400, 'invalid_request');
    assertTokenError(await requestToken({ body: form({ grant_type: 'client_credentials', client_id: reader.clientId }) }), 400, 'invalid_client');
    assertTokenError(await requestToken({ body: form({ grant_type: 'client_credentials' }) }), 400, 'invalid_client');
    // JSON, plain text, other types, or no body at all.
    const json = JSON.stringify({ grant_type: 'client_credentials', client_id: reader.clientId, client_secret: reader.clientSecret });
    assertTokenError(await requestToken({ body: json, contentType: 'application/json' }), 400, 'invalid_request');
    assertTokenError(await requestToken({ body: '{not json', contentType: 'application/json' }), 400, 'invalid_request');
    assertTokenError(await requestToken({ body: 'grant_type=client_credentials', contentType: 'text/plain' }), 400, 'invalid_request');
    assertTokenError(await requestToken({ body: '<x/>', contentType: 'application/xml' }), 400, 'invalid_request');
    assertTokenError(await requestToken({}), 400, 'invalid_request');
    assert.deepEqual(await principalRows(), rows);
  });

  test('issuance and its failures are audited; the secret never is', async () => {
    const start = (await db().selectFrom('audit_head').select('seq').where('id', '=', 1).executeTakeFirstOrThrow()).seq;
    assert.equal((await post({})).statusCode, 200);
    assertTokenError(await post({}, { clientId: reader.clientId, clientSecret: 'wrong' }), 400, 'invalid_client');
    const entries = await db().selectFrom('audit_entries').selectAll().where('seq', '>', start).where('action', '=', 'oauth.token').orderBy('seq').execute();
    assert.equal(entries.length, 2);
    const [success, failure] = entries;
    assert.equal(success!.outcome, 'success');
    assert.equal(success!.actor_type, 'service');
    assert.equal(success!.actor_id, reader.principal.id);
    assert.equal(success!.auth_method, 'client_credentials');
    assert.equal(success!.target_id, reader.principal.id);
    assert.equal((JSON.parse(success!.details) as Record<string, unknown>)['client_id'], reader.clientId);
    assert.equal(failure!.outcome, 'failure');
    assert.equal(failure!.actor_type, 'anonymous');
    assert.equal(failure!.actor_id, null);
    assert.equal((JSON.parse(failure!.details) as Record<string, unknown>)['client_id'], reader.clientId);
    for (const entry of entries) assert.ok(!JSON.stringify(entry).includes(reader.clientSecret));
  });

  test('the issued token authorises what its scope grants and nothing else', async () => {
    const token = (await post({ scope: 'telemetry.read' })).json<TokenBody>().access_token!;
    const bearer = { authorization: `Bearer ${token}` };
    const allowed = await plane.app.inject({ method: 'GET', url: '/api/v1/test/telemetry', headers: bearer });
    assert.equal(allowed.statusCode, 200, allowed.body);
    const denied = await plane.app.inject({ method: 'GET', url: '/api/v1/test/users', headers: bearer });
    assert.equal(denied.statusCode, 403);
    assert.equal(denied.json<{ code: string }>().code, 'access.denied');
    const manage = await plane.app.inject({ method: 'GET', url: '/api/v1/service-principals', headers: bearer });
    assert.equal(manage.statusCode, 403, 'a service token cannot manage service principals');

    const forged = await plane.app.inject({ method: 'GET', url: '/api/v1/test/telemetry', headers: { authorization: `Bearer ${alterLast(token)}` } });
    assert.equal(forged.statusCode, 401);
    assert.equal(forged.json<{ code: string }>().code, 'auth.token_invalid');
  });

  test('administrators manage service principals; each change is audited in the same transaction', async () => {
    const unauthenticated = await plane.app.inject({ method: 'GET', url: '/api/v1/service-principals' });
    assert.equal(unauthenticated.statusCode, 401);

    const created = await admin('POST', '/api/v1/service-principals', { name: 'fleet-dashboard', scopes: ['telemetry.read'] });
    assert.equal(created.statusCode, 201, created.body);
    const credentials = created.json<{ principal: { id: string; name: string; status: string; scopes: string[] }; clientId: string; clientSecret: string }>();
    assert.equal(credentials.principal.name, 'fleet-dashboard');
    assert.deepEqual(credentials.principal.scopes, ['telemetry.read']);
    assert.ok(!created.body.includes('secret_hash') && !created.body.includes('secretHash'));
    const id = credentials.principal.id;

    const taken = await admin('POST', '/api/v1/service-principals', { name: 'fleet-dashboard', scopes: ['telemetry.read'] });
    assert.equal(taken.statusCode, 409);
    assert.equal(taken.json<{ code: string }>().code, 'oauth.principal_name_taken');
    for (const payload of [{ name: 'Bad Name', scopes: ['telemetry.read'] }, { name: 'ok-name', scopes: [] }, { name: 'ok-name', scopes: ['user.manage'] }, { name: 'ok-name', scopes: ['telemetry.read'], extra: 1 }]) {
      const refused = await admin('POST', '/api/v1/service-principals', payload);
      assert.equal(refused.statusCode, 400, JSON.stringify(payload));
      assert.equal(refused.json<{ code: string }>().code, 'request.invalid');
    }

    const got = await admin('GET', `/api/v1/service-principals/${id}`);
    assert.equal(got.statusCode, 200);
    assert.equal(got.json<{ clientId: string }>().clientId, credentials.clientId);
    const listed = await admin('GET', '/api/v1/service-principals?limit=1');
    assert.equal(listed.statusCode, 200);
    const page = listed.json<{ items: unknown[]; nextCursor: string | null }>();
    assert.equal(page.items.length, 1);
    assert.equal(typeof page.nextCursor, 'string');
    const next = await admin('GET', `/api/v1/service-principals?limit=1&cursor=${page.nextCursor!}`);
    assert.equal(next.statusCode, 200);
    assert.equal((await admin('GET', '/api/v1/service-principals?limit=1000')).statusCode, 400);
    assert.equal((await admin('GET', '/api/v1/service-principals?cursor=%21%21')).statusCode, 400);

    const token = (await post({}, credentials)).json<TokenBody>().access_token!;
    const disabled = await admin('POST', `/api/v1/service-principals/${id}/disable`);
    assert.equal(disabled.statusCode, 200, disabled.body);
    assert.equal(disabled.json<{ status: string }>().status, 'disabled');
    const afterDisable = await plane.app.inject({ method: 'GET', url: '/api/v1/test/telemetry', headers: { authorization: `Bearer ${token}` } });
    assert.equal(afterDisable.statusCode, 401, 'the token stopped working at once');
    assertTokenError(await post({}, credentials), 400, 'invalid_client');

    const enabled = await admin('POST', `/api/v1/service-principals/${id}/enable`);
    assert.equal(enabled.json<{ status: string }>().status, 'active');
    const rotated = await admin('POST', `/api/v1/service-principals/${id}/rotate-secret`);
    assert.equal(rotated.statusCode, 200);
    const newSecret = rotated.json<{ clientSecret: string }>().clientSecret;
    assert.notEqual(newSecret, credentials.clientSecret);
    assertTokenError(await post({}, credentials), 400, 'invalid_client');
    assert.equal((await post({}, { clientId: credentials.clientId, clientSecret: newSecret })).statusCode, 200);

    for (const path of ['', '/disable', '/enable', '/rotate-secret']) {
      const missing = await admin(path === '' ? 'GET' : 'POST', `/api/v1/service-principals/svc_missing${path}`);
      assert.equal(missing.statusCode, 404, path);
      assert.equal(missing.json<{ code: string }>().code, 'route.not_found');
    }

    const entries = await db().selectFrom('audit_entries').selectAll().where('target_id', '=', id).where('action', 'like', 'service_principal.%').orderBy('seq').execute();
    assert.deepEqual(entries.map((e) => e.action), ['service_principal.create', 'service_principal.disable', 'service_principal.enable', 'service_principal.rotate_secret']);
    for (const entry of entries) {
      assert.equal(entry.actor_type, 'account');
      assert.equal(entry.actor_id, 'acct_admin');
      assert.equal(entry.target_type, 'service_principal');
      assert.ok(entry.request_id !== null);
      const details = JSON.parse(entry.details) as Record<string, unknown>;
      assert.equal(details['name'], 'fleet-dashboard');
      assert.deepEqual(details['scopes'], ['telemetry.read']);
      assert.ok(!entry.details.includes(credentials.clientSecret) && !entry.details.includes(newSecret));
    }
  });
});
