import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { auditEntries, Browser, completeSetup, createSignedInUser, freshSignIn, identitySnapshot, signIn, signInAdmin, startTestRampart, type SignedIn, type TestRampart } from '../support/identity.ts';

// Account administration through the API, with step-up for the sensitive parts.

type UserBody = { id: string; username: string; role: string; status: string };

describe('user administration', () => {
  let rampart: TestRampart;
  let admin: SignedIn;

  before(async () => {
    rampart = await startTestRampart();
    admin = await signInAdmin(rampart);
  });
  after(() => rampart.stop());

  /** A fresh admin browser whose second factor is seconds old. */
  const freshAdmin = () => freshSignIn(rampart, admin);

  test('the setup code of the bootstrap administrator is burned by its first use', async () => {
    const again = await new Browser(rampart.url).post('/api/v1/auth/setup', { username: 'admin', setupCode: rampart.setupCode, password: 'another long password 9' });
    assert.equal(again.status, 401);
    assert.equal(again.body['code'], 'identity.setup_code_invalid');
    const failures = (await auditEntries(rampart, 'account.setup')).filter((e) => e.outcome === 'failure');
    assert.equal(failures.length, 1, 'the failed attempt is in the audit trail');
    assert.ok(!failures[0]?.details.includes(rampart.setupCode), 'without the code');
  });

  test('creating a user returns a one-time setup code; invalid input is refused and creates nothing', async () => {
    const browser = await freshAdmin();
    const before = await identitySnapshot(rampart);
    for (const body of [{ username: 'x', role: 'driver' }, { username: 'valid.name', role: 'superuser' }, { username: 'valid.name', role: 'driver', extra: true }, { username: 'Ünïcode', role: 'driver' }, {}]) {
      const refused = await browser.post('/api/v1/users', body);
      assert.equal(refused.status, 400, JSON.stringify(body));
      assert.equal(refused.body['code'], 'request.invalid');
    }
    assert.equal(await identitySnapshot(rampart), before);
    const created = await browser.post<{ user: UserBody; setupCode: string }>('/api/v1/users', { username: 'walt', role: 'driver' });
    assert.equal(created.status, 201);
    assert.equal(created.body.user.status, 'setup_required');
    assert.match(created.body.setupCode, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){7}$/);
    const duplicate = await browser.post('/api/v1/users', { username: 'walt', role: 'auditor' });
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.body['code'], 'identity.username_taken');
    const setupWrongUser = await new Browser(rampart.url).post('/api/v1/auth/setup', { username: 'admin', setupCode: created.body.setupCode, password: 'long enough password 1' });
    assert.equal(setupWrongUser.status, 401, 'a setup code only works for its own account');
    const weak = await new Browser(rampart.url).post('/api/v1/auth/setup', { username: 'walt', setupCode: created.body.setupCode, password: 'password123' });
    assert.equal(weak.status, 400);
    assert.equal(weak.body['code'], 'identity.password_rejected');
    await completeSetup(rampart, 'walt', created.body.setupCode);
  });

  test('passwords: 8 to 128 characters of anything, common ones refused, never truncated', async () => {
    const browser = await freshAdmin();
    const created = await browser.post<{ setupCode: string }>('/api/v1/users', { username: 'pat', role: 'auditor' });
    const long = `${'🚚'.repeat(60)}ünïcødé spaces ok`.slice(0, 128);
    const tooLong = await new Browser(rampart.url).post('/api/v1/auth/setup', { username: 'pat', setupCode: created.body.setupCode, password: 'x'.repeat(129) });
    assert.equal(tooLong.status, 400);
    const short = await new Browser(rampart.url).post('/api/v1/auth/setup', { username: 'pat', setupCode: created.body.setupCode, password: 'short7!' });
    assert.equal(short.status, 400);
    const user = await completeSetup(rampart, 'pat', created.body.setupCode, long);
    const truncated = await new Browser(rampart.url).post('/api/v1/auth/login', { username: 'pat', password: long.slice(0, -1) });
    assert.equal(truncated.status, 401, 'a prefix of the password is not the password');
    assert.equal((await new Browser(rampart.url).post('/api/v1/auth/login', { username: 'pat', password: user.password })).status, 200);
  });

  test('list: search, filter by role, paginate with a cursor', async () => {
    const browser = await freshAdmin();
    for (const name of ['carla', 'carlos', 'carmen']) await browser.post('/api/v1/users', { username: name, role: 'dispatcher' });
    const first = await browser.get<{ items: UserBody[]; nextCursor: string | null }>('/api/v1/users?q=car&limit=2');
    assert.deepEqual(first.body.items.map((u) => u.username), ['carla', 'carlos']);
    assert.equal(first.body.nextCursor, 'carlos');
    const second = await browser.get<{ items: UserBody[]; nextCursor: string | null }>('/api/v1/users?q=car&limit=2&cursor=carlos');
    assert.deepEqual(second.body.items.map((u) => u.username), ['carmen']);
    assert.equal(second.body.nextCursor, null);
    const drivers = await browser.get<{ items: UserBody[] }>('/api/v1/users?role=driver');
    assert.ok(drivers.body.items.every((u) => u.role === 'driver'));
    assert.equal((await browser.get('/api/v1/users?limit=1000')).status, 400);
  });

  test('role changes need a recent second factor, end the user\'s sessions, and are audited with before and after', async () => {
    const browser = await freshAdmin();
    const user = await createSignedInUser(rampart, { ...admin, browser }, 'rolf', 'driver');
    rampart.clock.advance(6 * 60_000);
    const stale = await browser.request('PUT', `/api/v1/users/${user.accountId}/role`, { role: 'dispatcher' });
    assert.equal(stale.status, 401);
    assert.equal(stale.body['code'], 'auth.step_up_required');
    assert.equal((await browser.get<UserBody>(`/api/v1/users/${user.accountId}`)).body.role, 'driver', 'unchanged');

    rampart.clock.advance(30_000);
    const stepUp = await browser.post('/api/v1/auth/mfa/totp', { code: admin.code() });
    assert.equal(stepUp.status, 200);
    const changed = await browser.request<UserBody>('PUT', `/api/v1/users/${user.accountId}/role`, { role: 'dispatcher' });
    assert.equal(changed.status, 200);
    assert.equal(changed.body.role, 'dispatcher');
    assert.equal((await user.browser.get('/api/v1/auth/session')).status, 401, 'the user signs in again with the new role');
    const entry = (await auditEntries(rampart, 'user.role_change')).at(-1);
    assert.ok(entry !== undefined);
    assert.equal(entry.target_id, user.accountId);
    assert.equal(entry.actor_id, admin.accountId);
    assert.match(entry.details, /"after":"dispatcher","before":"driver"/);
  });

  test('resetting MFA (step-up) removes the factors; the user enrols again at the next sign-in', async () => {
    const browser = await freshAdmin();
    const user = await createSignedInUser(rampart, { ...admin, browser }, 'mfareset', 'auditor');
    const reset = await browser.post(`/api/v1/users/${user.accountId}/reset-mfa`);
    assert.equal(reset.status, 200);
    const login = await new Browser(rampart.url).post('/api/v1/auth/login', { username: user.username, password: user.password });
    assert.equal(login.body['stage'], 'enrol');
    assert.equal((await auditEntries(rampart, 'user.mfa_reset')).at(-1)?.target_id, user.accountId);
  });

  test('disabling ends the user\'s sessions at once; the last administrator and oneself cannot be disabled', async () => {
    const browser = await freshAdmin();
    const user = await createSignedInUser(rampart, { ...admin, browser }, 'dis', 'dispatcher');
    assert.equal((await user.browser.get('/api/v1/auth/session')).status, 200);
    assert.equal((await browser.post(`/api/v1/users/${user.accountId}/disable`)).status, 200);
    assert.equal((await user.browser.get('/api/v1/auth/session')).status, 401);
    const self = await browser.post(`/api/v1/users/${admin.accountId}/disable`);
    assert.equal(self.status, 409);
    const demote = await browser.request('PUT', `/api/v1/users/${admin.accountId}/role`, { role: 'auditor' });
    assert.equal(demote.status, 409, 'the last active administrator keeps the role');
    assert.equal(demote.body['code'], 'identity.invalid_state');
  });

  test('another user\'s account answers 404 exactly like one that does not exist', async () => {
    const browser = await freshAdmin();
    const a = await createSignedInUser(rampart, { ...admin, browser }, 'drv.a', 'driver');
    const b = await createSignedInUser(rampart, { ...admin, browser }, 'drv.b', 'driver');
    assert.equal((await a.browser.get(`/api/v1/users/${a.accountId}`)).status, 200);
    const other = await a.browser.get(`/api/v1/users/${b.accountId}`);
    const missing = await a.browser.get('/api/v1/users/acct_doesnotexist');
    assert.equal(other.status, 404);
    assert.deepEqual({ ...other.body, requestId: '' }, { ...missing.body, requestId: '' });
    const otherSessions = await a.browser.get(`/api/v1/users/${b.accountId}/sessions`);
    assert.equal(otherSessions.status, 404);
    assert.equal((await a.browser.get('/api/v1/users')).status, 403, 'listing is a role permission: refused outright');
  });

  test('a user lists and revokes their own sessions; an administrator revokes anyone\'s', async () => {
    const browser = await freshAdmin();
    const user = await createSignedInUser(rampart, { ...admin, browser }, 'sess', 'dispatcher');
    const second = await signIn(rampart, user);
    const listed = await user.browser.get<{ items: Array<{ id: string; current: boolean }> }>(`/api/v1/users/${user.accountId}/sessions`);
    assert.equal(listed.body.items.length, 2);
    const other = listed.body.items.find((s) => !s.current);
    assert.ok(other);
    assert.equal((await user.browser.request('DELETE', `/api/v1/users/${user.accountId}/sessions/${other.id}`)).status, 200);
    assert.equal((await second.get('/api/v1/auth/session')).status, 401);
    const revoked = await browser.request<{ ended: number }>('DELETE', `/api/v1/users/${user.accountId}/sessions`);
    assert.equal(revoked.body.ended, 1);
    assert.equal((await user.browser.get('/api/v1/auth/session')).status, 401);
    assert.ok((await auditEntries(rampart, 'session.revoke')).length >= 2);
  });
});
