import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { calculatePKCECodeChallenge } from 'openid-client';
import { ManualClock } from '../../kernel/clock.ts';
import type { Db } from '../../storage/database.ts';
import { sqliteTarget, type OpenedDatabase } from '../../../test/support/databases.ts';
import { hasCode } from '../../../test/support/errors.ts';
import { loginThroughProvider, startOidcProvider, type TestOidcProvider } from '../../../test/support/oidc-provider.ts';
import { SSO_REQUEST_TTL_MS, SsoClient, ssoStateHash, type SsoConfig } from './oidc.ts';

// End to end against a real OpenID provider on 127.0.0.1 and a migrated SQLite
// database: nothing of the protocol is mocked.

const ROLE_MAP: SsoConfig['roleMap'] = { 'fleet-admins': 'admin', 'fleet-dispatch': 'dispatcher', 'fleet-drivers': 'driver' };

describe('single sign-on (OpenID Connect, code + PKCE)', () => {
  let provider: TestOidcProvider;
  let opened: OpenedDatabase;
  let db: Db;
  let sso: SsoClient;
  const clock = new ManualClock(new Date());

  before(async () => {
    provider = await startOidcProvider({
      users: {
        dana: { claims: { preferred_username: 'Dana.Ops', groups: ['staff', 'fleet-dispatch', 'fleet-admins'], email: 'dana@example.test' }, amr: ['pwd'] },
        mika: { claims: { preferred_username: 'mika', groups: 'fleet-drivers' }, amr: ['pwd', 'mfa'] },
        olle: { claims: { preferred_username: 'olle', groups: ['contractors'] } },
        ravi: { claims: { preferred_username: 'Ravi Kumar', groups: ['fleet-drivers'] } },
        acre: { claims: { preferred_username: 'acre', groups: ['fleet-drivers'] }, amr: ['pwd'], acr: 'urn:example:loa:high' },
      },
    });
    opened = await sqliteTarget.open();
    db = opened.database.db;
    sso = await SsoClient.discover(provider.ssoConfig({ roleMap: ROLE_MAP, mfaAcrValues: ['urn:example:loa:high'] }), { allowInsecureHttp: true });
  });

  after(async () => {
    await opened.cleanup();
    await provider.close();
  });

  const rowCount = async (): Promise<number> => (await db.selectFrom('sso_requests').select('state_hash').execute()).length;

  test('a successful sign-in yields the issuer, subject, mapped role and lower-cased username', async () => {
    const { authorizationUrl } = await sso.start(db, clock);
    const callback = await loginThroughProvider(authorizationUrl, { user: 'dana' });
    assert.ok(callback.searchParams.has('code'));
    const identity = await sso.finish(db, clock, callback);
    // roleMap order decides between several mapped groups: 'fleet-admins' is listed first.
    assert.deepEqual(identity, { issuer: provider.issuer, subject: 'sub-dana', username: 'dana.ops', role: 'admin', mfaAsserted: false, amr: ['pwd'] });
    assert.equal(sso.issuer, provider.issuer);
    assert.deepEqual(provider.serverErrors, []);
  });

  test('the roles claim may be a single string; the first roleMap key the user has wins', async () => {
    const first = await SsoClient.discover(provider.ssoConfig({ roleMap: { 'fleet-dispatch': 'dispatcher', 'fleet-admins': 'admin' } }), { allowInsecureHttp: true });
    const dana = await first.finish(db, clock, await loginThroughProvider((await first.start(db, clock)).authorizationUrl, { user: 'dana' }));
    assert.equal(dana.role, 'dispatcher');
    const mika = await sso.finish(db, clock, await loginThroughProvider((await sso.start(db, clock)).authorizationUrl, { user: 'mika' }));
    assert.equal(mika.role, 'driver');
    assert.equal(mika.username, 'mika');
  });

  test('the authorization request uses PKCE S256 and a fresh CSPRNG state and nonce; only the state hash is stored', async () => {
    const a = new URL((await sso.start(db, clock)).authorizationUrl);
    const b = new URL((await sso.start(db, clock)).authorizationUrl);
    assert.equal(a.origin, provider.issuer);
    assert.equal(a.searchParams.get('response_type'), 'code');
    assert.equal(a.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(a.searchParams.get('client_id'), provider.clientId);
    assert.equal(a.searchParams.get('redirect_uri'), provider.redirectUri);
    assert.deepEqual(a.searchParams.get('scope')?.split(' '), ['openid', 'profile', 'email']);
    for (const name of ['state', 'nonce', 'code_challenge']) {
      const value = a.searchParams.get(name) ?? '';
      assert.match(value, /^[A-Za-z0-9_-]{43,}$/, name);
      assert.notEqual(value, b.searchParams.get(name), `${name} differs per sign-in`);
    }
    const state = a.searchParams.get('state') ?? '';
    const row = await db.selectFrom('sso_requests').selectAll().where('state_hash', '=', ssoStateHash(state)).executeTakeFirstOrThrow();
    assert.equal(row.nonce, a.searchParams.get('nonce'));
    assert.equal(row.used_at, null);
    assert.equal(Date.parse(row.expires_at) - Date.parse(row.created_at), SSO_REQUEST_TTL_MS);
    const stored = JSON.stringify(await db.selectFrom('sso_requests').selectAll().execute());
    assert.ok(!stored.includes(state), 'the raw state is never stored');
    // The verifier in the row is the one behind the challenge the provider saw.
    assert.equal(await calculatePKCECodeChallenge(row.code_verifier), a.searchParams.get('code_challenge'));
  });

  test('a replayed callback (same state twice) is refused and changes nothing', async () => {
    const callback = await loginThroughProvider((await sso.start(db, clock)).authorizationUrl, { user: 'mika' });
    await sso.finish(db, clock, callback);
    const hash = ssoStateHash(callback.searchParams.get('state') ?? '');
    const before = await db.selectFrom('sso_requests').selectAll().where('state_hash', '=', hash).executeTakeFirstOrThrow();
    const tokens = provider.tokenResponses;
    clock.advance(1_000);
    await assert.rejects(sso.finish(db, clock, callback), hasCode('sso.failed', /already used/));
    const afterReplay = await db.selectFrom('sso_requests').selectAll().where('state_hash', '=', hash).executeTakeFirstOrThrow();
    assert.deepEqual(afterReplay, before, 'the row is unchanged (used_at keeps the first use)');
    assert.equal(provider.tokenResponses, tokens, 'the code was not sent to the provider again');
  });

  test('concurrent callbacks with the same state: exactly one succeeds', async () => {
    const callback = await loginThroughProvider((await sso.start(db, clock)).authorizationUrl, { user: 'mika' });
    const results = await Promise.allSettled([sso.finish(db, clock, callback), sso.finish(db, clock, callback), sso.finish(db, clock, callback)]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') hasCode('sso.failed', /already used/)(r.reason);
  });

  test('an unknown, missing or duplicated state is refused', async () => {
    const callback = await loginThroughProvider((await sso.start(db, clock)).authorizationUrl, { user: 'mika' });
    const forged = new URL(callback);
    forged.searchParams.set('state', 'A'.repeat(43));
    await assert.rejects(sso.finish(db, clock, forged), hasCode('sso.failed', /unknown state/));
    const none = new URL(callback);
    none.searchParams.delete('state');
    await assert.rejects(sso.finish(db, clock, none), hasCode('sso.failed', /state/));
    const twice = new URL(callback);
    twice.searchParams.append('state', 'other');
    await assert.rejects(sso.finish(db, clock, twice), hasCode('sso.failed', /exactly one/));
    // None of these burned the genuine request.
    assert.equal((await sso.finish(db, clock, callback)).username, 'mika');
  });

  test('a callback whose state belongs to another sign-in is refused by the state check', async () => {
    const one = await loginThroughProvider((await sso.start(db, clock)).authorizationUrl, { user: 'mika' });
    const two = await loginThroughProvider((await sso.start(db, clock)).authorizationUrl, { user: 'dana' });
    // Code from sign-in one presented with the state of sign-in two: the nonce and PKCE verifier do not match.
    const swapped = new URL(one);
    swapped.searchParams.set('state', two.searchParams.get('state') ?? '');
    await assert.rejects(sso.finish(db, clock, swapped), hasCode('sso.failed', /refused/));
  });

  test('an expired request (past 10 minutes) is refused', async () => {
    const local = new ManualClock(clock.now());
    const callback = await loginThroughProvider((await sso.start(db, local)).authorizationUrl, { user: 'mika' });
    local.advance(SSO_REQUEST_TTL_MS);
    await assert.rejects(sso.finish(db, local, callback), hasCode('sso.failed', /expired/));
    const row = await db.selectFrom('sso_requests').select('used_at').where('state_hash', '=', ssoStateHash(callback.searchParams.get('state') ?? '')).executeTakeFirstOrThrow();
    assert.equal(row.used_at, null, 'an expired request is not marked used');
  });

  test('start() purges expired requests', async () => {
    const local = new ManualClock(clock.now());
    await sso.start(db, local);
    const count = await rowCount();
    assert.ok(count > 0);
    local.advance(SSO_REQUEST_TTL_MS + 1);
    await sso.start(db, local);
    assert.equal(await rowCount(), 1, 'only the request just started remains');
  });

  describe('a tampered ID token is refused', () => {
    const cases = [
      { name: 'a flipped signature bit', user: 'mika', tamper: { kind: 'signature' } as const, message: /signature/i },
      { name: 'groups changed without re-signing (privilege escalation)', user: 'olle', tamper: { kind: 'payload', claims: { groups: ['fleet-admins'] } } as const, message: /signature/i },
      { name: 'a validly signed token with another nonce', user: 'mika', tamper: { kind: 'resign', claims: { nonce: 'not-the-nonce' } } as const, message: /nonce/ },
      { name: 'a validly signed token for another audience', user: 'mika', tamper: { kind: 'resign', claims: { aud: 'someone-else' } } as const, message: /aud/ },
      { name: 'a validly signed token from another issuer', user: 'mika', tamper: { kind: 'resign', claims: { iss: 'https://evil.example' } } as const, message: /iss/ },
      { name: 'a validly signed, expired token', user: 'mika', tamper: { kind: 'resign', claims: { exp: Math.floor(Date.now() / 1000) - 3600, iat: Math.floor(Date.now() / 1000) - 7200 } } as const, message: /exp/ },
    ];
    for (const c of cases) {
      test(c.name, async () => {
        const callback = await loginThroughProvider((await sso.start(db, clock)).authorizationUrl, { user: c.user });
        provider.tamperNextIdToken(c.tamper);
        await assert.rejects(sso.finish(db, clock, callback), hasCode('sso.failed', /response was refused/, c.message));
      });
    }
  });

  test('a user whose groups map to no role is refused with sso.unmapped', async () => {
    const callback = await loginThroughProvider((await sso.start(db, clock)).authorizationUrl, { user: 'olle' });
    await assert.rejects(sso.finish(db, clock, callback), hasCode('sso.unmapped', /sub-olle/, /contractors/));
  });

  test('a username claim that is not a valid Rampart username is refused', async () => {
    const callback = await loginThroughProvider((await sso.start(db, clock)).authorizationUrl, { user: 'ravi' });
    await assert.rejects(sso.finish(db, clock, callback), hasCode('sso.username_invalid', /preferred_username/));
    const missing = await SsoClient.discover(provider.ssoConfig({ roleMap: ROLE_MAP, usernameClaim: 'nickname' }), { allowInsecureHttp: true });
    const again = await loginThroughProvider((await missing.start(db, clock)).authorizationUrl, { user: 'mika' });
    await assert.rejects(missing.finish(db, clock, again), hasCode('sso.username_invalid', /no string nickname claim/));
  });

  test('mfaAsserted only when the provider asserts a configured amr or acr value', async () => {
    const signIn = async (user: string, extra: { amr?: string[]; acr?: string } = {}) =>
      sso.finish(db, clock, await loginThroughProvider((await sso.start(db, clock)).authorizationUrl, { user, ...extra }));

    const mfa = await signIn('mika');
    assert.equal(mfa.mfaAsserted, true);
    assert.deepEqual(mfa.amr, ['pwd', 'mfa']);

    const password = await signIn('mika', { amr: ['pwd'] });
    assert.equal(password.mfaAsserted, false);
    assert.deepEqual(password.amr, ['pwd']);

    const nothing = await signIn('mika', { amr: [] });
    assert.equal(nothing.mfaAsserted, false);

    const acr = await signIn('acre');
    assert.equal(acr.acr, 'urn:example:loa:high');
    assert.equal(acr.mfaAsserted, true);

    const lowAcr = await signIn('acre', { acr: 'urn:example:loa:low' });
    assert.equal(lowAcr.acr, 'urn:example:loa:low');
    assert.equal(lowAcr.mfaAsserted, false);

    const hwk = await signIn('mika', { amr: ['hwk'] });
    assert.equal(hwk.mfaAsserted, true);
  });

  test('a provider error in the callback is refused and burns the request', async () => {
    const { authorizationUrl } = await sso.start(db, clock);
    const state = new URL(authorizationUrl).searchParams.get('state') ?? '';
    const callback = new URL(provider.redirectUri);
    callback.searchParams.set('error', 'access_denied');
    callback.searchParams.set('state', state);
    callback.searchParams.set('iss', provider.issuer);
    await assert.rejects(sso.finish(db, clock, callback), hasCode('sso.failed', /access_denied/));
    await assert.rejects(sso.finish(db, clock, callback), hasCode('sso.failed', /already used/));
  });

  test('messages for the log never carry the state, code or tokens', async () => {
    const callback = await loginThroughProvider((await sso.start(db, clock)).authorizationUrl, { user: 'olle' });
    provider.tamperNextIdToken({ kind: 'signature' });
    const error = await sso.finish(db, clock, callback).then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e as Error,
    );
    for (const secret of [callback.searchParams.get('state'), callback.searchParams.get('code')]) {
      assert.ok(secret !== null && !error.message.includes(secret));
    }
    assert.doesNotMatch(error.message, /eyJ/, 'no JWT in the message');
    assert.equal(error.cause, undefined, 'openid-client errors (which may hold the token response) are not attached');
  });

  describe('discovery', () => {
    test('a non-https issuer is refused without allowInsecureHttp', async () => {
      await assert.rejects(SsoClient.discover(provider.ssoConfig({ roleMap: ROLE_MAP })), hasCode('config.insecure', /identity\.sso\.issuer: http:\/\/127\.0\.0\.1:\d+ is not https/));
    });

    test('SSO switched off is sso.disabled', async () => {
      await assert.rejects(SsoClient.discover(provider.ssoConfig({ enabled: false, roleMap: ROLE_MAP }), { allowInsecureHttp: true }), hasCode('sso.disabled'));
    });

    test('missing settings are named', async () => {
      await assert.rejects(
        SsoClient.discover(provider.ssoConfig({ issuer: '', clientSecret: '', roleMap: {} }), { allowInsecureHttp: true }),
        hasCode('config.invalid', /identity\.sso\.issuer/, /RAMPART_SSO_CLIENT_SECRET/, /identity\.sso\.roleMap/),
      );
      await assert.rejects(
        SsoClient.discover(provider.ssoConfig({ issuer: `${provider.issuer}/.well-known/openid-configuration`, roleMap: ROLE_MAP }), { allowInsecureHttp: true }),
        hasCode('config.invalid', /issuer identifier itself/),
      );
    });

    test('an issuer whose discovery document names another issuer is sso.unavailable', async () => {
      const other = provider.issuer.replace('127.0.0.1', 'localhost');
      await assert.rejects(SsoClient.discover(provider.ssoConfig({ issuer: other, roleMap: ROLE_MAP }), { allowInsecureHttp: true }), hasCode('sso.unavailable', /issuer/));
    });

    test('an unreachable provider is sso.unavailable', async () => {
      const down = await startOidcProvider();
      const config = down.ssoConfig({ roleMap: ROLE_MAP });
      await down.close();
      await assert.rejects(SsoClient.discover(config, { allowInsecureHttp: true, timeoutSeconds: 5 }), hasCode('sso.unavailable'));
    });
  });
});
