import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { totpCode } from '../../src/identity/mfa/totp.ts';
import { auditEntries, Browser, createSignedInUser, identitySnapshot, signIn, signInAdmin, startTestRampart, type SignedIn, type TestRampart } from '../support/identity.ts';

// Sign-in as an attacker would probe it: enumeration, replay, brute force,
// fixation, cross-site requests and stale sessions.

/** Read through a function: the requests change the jar behind the type checker's back. */
const cookieOf = (browser: Browser): string | undefined => browser.cookie;

function withoutRequestId(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([key]) => key !== 'requestId'));
}

describe('sign-in', () => {
  let rampart: TestRampart;
  let admin: SignedIn;
  let driver: SignedIn;

  before(async () => {
    rampart = await startTestRampart();
    admin = await signInAdmin(rampart);
    driver = await createSignedInUser(rampart, admin, 'dora', 'driver');
  });
  after(() => rampart.stop());

  test('the password alone gives a session that can do nothing but finish with a second factor', async () => {
    const browser = new Browser(rampart.url);
    const login = await browser.post('/api/v1/auth/login', { username: driver.username, password: driver.password });
    assert.equal(login.status, 200);
    assert.equal(login.body['stage'], 'mfa');
    const blocked = await browser.get('/api/v1/users/' + driver.accountId);
    assert.equal(blocked.status, 401);
    assert.equal(blocked.body['code'], 'auth.mfa_required');
    rampart.clock.advance(30_000);
    const mfa = await browser.post('/api/v1/auth/mfa/totp', { code: driver.code() });
    assert.equal(mfa.status, 200);
    assert.equal(mfa.body['stage'], 'active');
    assert.equal((await browser.get('/api/v1/users/' + driver.accountId)).status, 200);
  });

  test('a TOTP code works once: replaying it, even in another session, is refused', async () => {
    rampart.clock.advance(30_000);
    const code = driver.code();
    const first = new Browser(rampart.url);
    await first.post('/api/v1/auth/login', { username: driver.username, password: driver.password });
    assert.equal((await first.post('/api/v1/auth/mfa/totp', { code })).status, 200);

    const second = new Browser(rampart.url);
    await second.post('/api/v1/auth/login', { username: driver.username, password: driver.password });
    const before = await identitySnapshot(rampart);
    const replay = await second.post('/api/v1/auth/mfa/totp', { code });
    assert.equal(replay.status, 401);
    assert.equal(replay.body['code'], 'auth.mfa_failed');
    assert.equal((await second.get('/api/v1/auth/session')).body['stage'], 'mfa');
    // Nothing but the failure counter moved.
    assert.equal(await identitySnapshot(rampart), before);
  });

  test('TOTP accepts one step of drift either way and no more', async () => {
    for (const [offset, expected] of [[-60_000, 401], [-30_000, 200], [30_000, 200], [90_000, 401]] as const) {
      rampart.clock.advance(120_000);
      const at = rampart.clock.now().getTime();
      const browser = new Browser(rampart.url);
      await browser.post('/api/v1/auth/login', { username: driver.username, password: driver.password });
      const result = await browser.post('/api/v1/auth/mfa/totp', { code: totpCode(driver.totpSecret, at + offset) });
      assert.equal(result.status, expected, `offset ${offset} ms`);
    }
  });

  test('a recovery code signs in once and is then refused', async () => {
    const code = driver.recoveryCodes[0];
    assert.ok(code !== undefined);
    assert.ok(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/.test(code), 'recovery codes are 80-bit, 16 Crockford characters');
    const first = new Browser(rampart.url);
    await first.post('/api/v1/auth/login', { username: driver.username, password: driver.password });
    const used = await first.post('/api/v1/auth/mfa/recovery', { code: code.toLowerCase() });
    assert.equal(used.status, 200);
    assert.equal((used.body['factors'] as { recoveryCodes: number }).recoveryCodes, 9);

    const second = new Browser(rampart.url);
    await second.post('/api/v1/auth/login', { username: driver.username, password: driver.password });
    const reused = await second.post('/api/v1/auth/mfa/recovery', { code });
    assert.equal(reused.status, 401);
    assert.equal(reused.body['code'], 'auth.mfa_failed');
  });

  test('unknown user, wrong password and disabled account give the same answer', async () => {
    const victim = await createSignedInUser(rampart, admin, 'vic', 'dispatcher');
    const responses = [];
    for (const [username, password] of [['nobody-here', 'some password 1'], [victim.username, 'wrong password 1'], ['admin', 'wrong password 2']]) {
      responses.push(await new Browser(rampart.url).post('/api/v1/auth/login', { username, password }));
    }
    rampart.clock.advance(31 * 60_000);
    const freshAdmin = await signIn(rampart, admin);
    const adminBrowser = freshAdmin;
    assert.equal((await adminBrowser.post(`/api/v1/users/${victim.accountId}/disable`)).status, 200);
    responses.push(await new Browser(rampart.url).post('/api/v1/auth/login', { username: victim.username, password: victim.password }));
    const shapes = responses.map((r) => JSON.stringify({ status: r.status, body: withoutRequestId(r.body), cookie: r.headers.getSetCookie().length }));
    assert.equal(new Set(shapes).size, 1, shapes.join('\n'));
    const [first] = responses;
    assert.ok(first !== undefined);
    assert.equal(first.status, 401);
    assert.equal(first.body['code'], 'auth.failed');
  });

  test('repeated failures lock the account for a growing time, tell the audit trail, and expire', async () => {
    const target = await createSignedInUser(rampart, admin, 'lockme', 'auditor');
    const attempt = (password: string) => new Browser(rampart.url).post('/api/v1/auth/login', { username: target.username, password });
    for (let i = 0; i < 5; i++) assert.equal((await attempt(`wrong guess ${i}`)).status, 401);
    const lockouts = await auditEntries(rampart, 'auth.lockout');
    const mine = lockouts.filter((e) => e.target_id === target.accountId);
    assert.equal(mine.length, 1);
    assert.match(mine[0]?.details ?? '', /"failures":5/);

    const whileLocked = await attempt(target.password);
    assert.equal(whileLocked.status, 401, 'the right password is refused while locked');
    assert.equal(whileLocked.body['code'], 'auth.failed');

    rampart.clock.advance(31_000);
    assert.equal((await attempt('wrong again 6')).status, 401);
    rampart.clock.advance(31_000);
    assert.equal((await attempt(target.password)).status, 401, 'the second lock lasts 60 s, not 30');
    rampart.clock.advance(31_000);
    const unlocked = await attempt(target.password);
    assert.equal(unlocked.status, 200, 'the lock expires');
  });

  test('after 100 consecutive failures the password is disabled until an administrator resets it', async () => {
    const target = await createSignedInUser(rampart, admin, 'hammered', 'auditor');
    for (let i = 0; i < 100; i++) {
      rampart.clock.advance(16 * 60_000);
      await new Browser(rampart.url).post('/api/v1/auth/login', { username: target.username, password: `guess number ${i}` });
    }
    rampart.clock.advance(16 * 60_000);
    const refused = await new Browser(rampart.url).post('/api/v1/auth/login', { username: target.username, password: target.password });
    assert.equal(refused.status, 401);
    const account = await rampart.running.database.db.selectFrom('accounts').select('password_disabled_at').where('id', '=', target.accountId).executeTakeFirstOrThrow();
    assert.notEqual(account.password_disabled_at, null);
    assert.equal((await auditEntries(rampart, 'auth.password_disabled')).filter((e) => e.target_id === target.accountId).length, 1);
    assert.equal((await target.browser.get('/api/v1/auth/session')).status, 401, 'its sessions ended');
  });

  test('session fixation: a planted cookie is ignored, and every step issues a new session token', async () => {
    const browser = new Browser(rampart.url);
    browser.cookie = '__Host-rampart-session=attacker-chosen-value-attacker-chosen-value-0';
    rampart.clock.advance(16 * 60_000);
    await browser.post('/api/v1/auth/login', { username: driver.username, password: driver.password });
    const afterPassword = cookieOf(browser) ?? '';
    assert.ok(!afterPassword.includes('attacker') && afterPassword.startsWith('__Host-rampart-session='));
    rampart.clock.advance(30_000);
    await browser.post('/api/v1/auth/mfa/totp', { code: driver.code() });
    assert.notEqual(browser.cookie, afterPassword);
    const stale = new Browser(rampart.url);
    stale.cookie = afterPassword;
    assert.equal((await stale.get('/api/v1/auth/session')).status, 401, 'the pre-MFA token no longer works');
  });

  test('a live session cookie sent without its CSRF token does not get in the way of signing in again', async () => {
    const browser = await signIn(rampart, driver);
    browser.csrf = undefined;
    const again = await browser.post('/api/v1/auth/login', { username: driver.username, password: driver.password });
    assert.equal(again.status, 200);
    assert.equal(again.body['stage'], 'mfa');
  });

  test('cookies are __Host-, Secure, HttpOnly and SameSite=Strict', async () => {
    const browser = new Browser(rampart.url);
    const login = await browser.post('/api/v1/auth/login', { username: driver.username, password: driver.password });
    const cookie = login.headers.getSetCookie()[0] ?? '';
    assert.match(cookie, /^__Host-rampart-session=[A-Za-z0-9_-]{43};/);
    for (const attribute of [/; Path=\//, /; HttpOnly/, /; Secure/, /; SameSite=Strict/]) assert.match(cookie, attribute);
    assert.doesNotMatch(cookie, /Domain=/i);
  });

  test('a state-changing request without the CSRF token, with a wrong one, or from another origin is refused and changes nothing', async () => {
    rampart.clock.advance(6 * 60_000);
    const browser = await signIn(rampart, admin);
    const before = await identitySnapshot(rampart);
    const body = { username: 'csrf-victim', role: 'admin' };
    const missing = await browser.request('POST', '/api/v1/users', body, { 'x-csrf-token': '' });
    const wrong = await browser.request('POST', '/api/v1/users', body, { 'x-csrf-token': 'A'.repeat(43) });
    const crossSite = await browser.request('POST', '/api/v1/users', body, { origin: 'https://evil.example' });
    for (const r of [missing, wrong, crossSite]) {
      assert.equal(r.status, 403);
      assert.equal(r.body['code'], 'auth.csrf_failed');
    }
    assert.equal(await identitySnapshot(rampart), before);
    assert.equal((await browser.post('/api/v1/users', body)).status, 201, 'the same request with the token works');
  });

  test('sessions end after 1 h idle and after 24 h however busy', async () => {
    const idle = await signIn(rampart, driver);
    rampart.clock.advance(59 * 60_000);
    assert.equal((await idle.get('/api/v1/auth/session')).status, 200);
    rampart.clock.advance(60 * 60_000 + 1);
    assert.equal((await idle.get('/api/v1/auth/session')).status, 401);

    const busy = await signIn(rampart, driver);
    for (let hour = 0; hour < 23; hour++) {
      rampart.clock.advance(55 * 60_000);
      assert.equal((await busy.get('/api/v1/auth/session')).status, 200, `hour ${hour}`);
    }
    rampart.clock.advance(60 * 60_000);
    assert.equal((await busy.get('/api/v1/auth/session')).status, 401);
  });

  test('changing the password ends every other session, and old passwords stop working', async () => {
    const user = await createSignedInUser(rampart, await adminNow(), 'pwchange', 'dispatcher');
    const other = await signIn(rampart, user);
    const change = await user.browser.post('/api/v1/auth/password', { currentPassword: user.password, newPassword: 'a brand new passphrase 42' });
    assert.equal(change.status, 204);
    assert.equal((await other.get('/api/v1/auth/session')).status, 401);
    assert.equal((await user.browser.get('/api/v1/auth/session')).status, 200);
    assert.equal((await new Browser(rampart.url).post('/api/v1/auth/login', { username: user.username, password: user.password })).status, 401);
  });

  test('logout everywhere ends all sessions of the account', async () => {
    const a = await signIn(rampart, driver);
    const b = await signIn(rampart, driver);
    const result = await a.post('/api/v1/auth/logout-all');
    assert.equal(result.status, 200);
    assert.ok((result.body['ended'] as number) >= 2);
    assert.equal((await a.get('/api/v1/auth/session')).status, 401);
    assert.equal((await b.get('/api/v1/auth/session')).status, 401);
  });

  async function adminNow(): Promise<SignedIn> {
    rampart.clock.advance(16 * 60_000);
    return { ...admin, browser: await signIn(rampart, admin) };
  }
});
