import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { auditEntries, Browser, startTestRampart, type TestRampart } from '../support/identity.ts';
import { loginThroughProvider, startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.ts';

// Single sign-on through Rampart's own routes against a real OpenID provider
// (oidc-provider) running in this process. The provider redirects to the
// registered callback; the test carries the callback's query to Rampart.

describe('single sign-on over the API', () => {
  let provider: TestOidcProvider;
  let rampart: TestRampart;
  let trusting: TestRampart;

  before(async () => {
    provider = await startOidcProvider({
      users: {
        alice: { claims: { preferred_username: 'alice', groups: ['staff', 'ops-dispatch'] } },
        mallory: { claims: { preferred_username: 'admin', groups: ['ops-admin'] } },
        nobody: { claims: { preferred_username: 'nobody', groups: ['visitors'] } },
        otto: { claims: { preferred_username: 'otto', groups: ['ops-admin'] }, amr: ['pwd', 'mfa'] },
      },
    });
    const roleMap = { 'ops-admin': 'admin', 'ops-dispatch': 'dispatcher' } as const;
    rampart = await startTestRampart({ identity: { sso: provider.ssoConfig({ roleMap }) } });
    trusting = await startTestRampart({ identity: { sso: provider.ssoConfig({ roleMap, requireIdpMfa: true }) } });
  });
  after(async () => {
    await rampart.stop();
    await trusting.stop();
    await provider.close();
  });

  async function ssoSignIn(target: TestRampart, user: string, amr?: string[]) {
    const browser = new Browser(target.url);
    const start = await browser.get('/api/v1/auth/sso/start');
    assert.equal(start.status, 302);
    const location = start.headers.get('location') ?? '';
    assert.ok(location.startsWith(provider.issuer), location);
    assert.match(location, /code_challenge_method=S256/);
    const callback = await loginThroughProvider(location, { user, ...(amr === undefined ? {} : { amr }) });
    const path = `/api/v1/auth/sso/callback${callback.search}`;
    return { browser, path, result: await browser.get(path) };
  }

  test('a provider user is signed in with the mapped role, then must enrol Rampart\'s own second factor', async () => {
    const { browser, result } = await ssoSignIn(rampart, 'alice');
    assert.equal(result.status, 302);
    assert.equal(result.headers.get('location'), '/?signin=enrol');
    const session = await browser.get<{ stage: string; account: { username: string; role: string } }>('/api/v1/auth/session');
    assert.equal(session.body.stage, 'enrol');
    assert.deepEqual({ username: session.body.account.username, role: session.body.account.role }, { username: 'alice', role: 'dispatcher' });
    assert.equal((await browser.get('/api/v1/users/x')).body['code'], 'auth.enrolment_required');
  });

  test('replaying the callback (same state) is refused and signs nobody in', async () => {
    const { path } = await ssoSignIn(rampart, 'alice');
    const replay = await new Browser(rampart.url).get(path);
    assert.equal(replay.status, 401);
    assert.equal(replay.body['code'], 'sso.failed');
    assert.equal(replay.headers.getSetCookie().length, 0);
  });

  test('a tampered ID token is refused', async () => {
    const sessionsBefore = await rampart.running.database.db.selectFrom('sessions').select('id').execute();
    provider.tamperNextIdToken({ kind: 'payload', claims: { groups: ['ops-admin'] } });
    const { result } = await ssoSignIn(rampart, 'alice');
    assert.equal(result.status, 401);
    assert.equal(result.body['code'], 'sso.failed');
    assert.equal((await rampart.running.database.db.selectFrom('sessions').select('id').execute()).length, sessionsBefore.length);
    assert.ok((await auditEntries(rampart, 'auth.sso')).some((e) => e.outcome === 'failure'));
  });

  test('an identity whose username belongs to a local account does not take it over', async () => {
    const { result } = await ssoSignIn(rampart, 'mallory');
    assert.equal(result.status, 401);
    const local = await rampart.running.database.db.selectFrom('accounts').select(['role', 'sso_subject']).where('username', '=', 'admin').executeTakeFirstOrThrow();
    assert.deepEqual({ ...local }, { role: 'admin', sso_subject: null });
    assert.ok((await auditEntries(rampart, 'auth.sso')).some((e) => e.outcome === 'denied'));
  });

  test('groups that map to no role are refused (deny by default)', async () => {
    const { result } = await ssoSignIn(rampart, 'nobody');
    assert.equal(result.status, 403);
    assert.equal(result.body['code'], 'sso.unmapped');
  });

  test('with requireIdpMfa the provider\'s asserted MFA completes sign-in, and its absence is refused', async () => {
    const withMfa = await ssoSignIn(trusting, 'otto');
    assert.equal(withMfa.result.headers.get('location'), '/');
    assert.equal((await withMfa.browser.get('/api/v1/auth/session')).body['stage'], 'active');
    const without = await ssoSignIn(trusting, 'otto', ['pwd']);
    assert.equal(without.result.status, 401);
  });
});
