import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { SoftwareAuthenticator } from '../support/authenticator.ts';
import { auditEntries, Browser, signInAdmin, startTestRampart, type SignedIn, type TestRampart } from '../support/identity.ts';

// Passkeys through the API with a software authenticator that produces real
// WebAuthn data (CBOR attestation, COSE keys, ECDSA signatures).

const ORIGIN = 'https://console.rampart.test';

describe('passkeys over the API', () => {
  let rampart: TestRampart;
  let admin: SignedIn;
  const password = 'passkey person password 1';
  const authenticator = new SoftwareAuthenticator({ origin: ORIGIN, rpId: 'rampart.test' });

  before(async () => {
    rampart = await startTestRampart({ identity: { webauthn: { rpId: 'rampart.test', origins: [ORIGIN] } } });
    admin = await signInAdmin(rampart);
  });
  after(() => rampart.stop());

  async function passkeySignIn(browser: Browser, forgery: Parameters<SoftwareAuthenticator['authenticate']>[1] = {}) {
    const options = await browser.post<PublicKeyCredentialRequestOptionsJSON>('/api/v1/auth/passkey/authenticate/options');
    assert.equal(options.status, 200);
    const assertion = authenticator.authenticate(options.body, forgery);
    return { assertion, result: await browser.post('/api/v1/auth/passkey/authenticate', assertion) };
  }

  test('a new administrator enrols a passkey as the first factor, then signs in and steps up with it', async () => {
    const created = await admin.browser.post<{ setupCode: string; user: { id: string } }>('/api/v1/users', { username: 'penny', role: 'admin' });
    const browser = new Browser(rampart.url);
    assert.equal((await browser.post('/api/v1/auth/setup', { username: 'penny', setupCode: created.body.setupCode, password })).body['stage'], 'enrol');

    const options = await browser.post<PublicKeyCredentialCreationOptionsJSON>('/api/v1/auth/passkey/register/options');
    assert.equal(options.status, 200);
    assert.equal(options.body.rp.id, 'rampart.test');
    assert.equal(options.body.authenticatorSelection?.userVerification, 'required');
    const registered = await browser.post<{ stage: string; recoveryCodes: string[] }>('/api/v1/auth/passkey/register', { name: 'Laptop', response: authenticator.register(options.body) });
    assert.equal(registered.status, 200, JSON.stringify(registered.body));
    assert.equal(registered.body.stage, 'active');
    assert.equal(registered.body.recoveryCodes.length, 10);
    assert.match((await auditEntries(rampart, 'mfa.enrol')).at(-1)?.details ?? '', /"method":"passkey"/);

    const later = new Browser(rampart.url);
    assert.equal((await later.post('/api/v1/auth/login', { username: 'penny', password })).body['stage'], 'mfa');
    const { assertion, result } = await passkeySignIn(later);
    assert.equal(result.status, 200);
    assert.equal(result.body['stage'], 'active');

    // The same assertion again: its challenge was used up.
    const replay = await later.post('/api/v1/auth/passkey/authenticate', assertion);
    assert.equal(replay.status, 401);

    // Step-up: six minutes on, a role grant is refused until the passkey is used again.
    rampart.clock.advance(6 * 60_000);
    const grant = () => later.request('PUT', `/api/v1/users/${admin.accountId}/role`, { role: 'admin' });
    assert.equal((await grant()).body['code'], 'auth.step_up_required');
    assert.equal((await passkeySignIn(later)).result.status, 200);
    assert.equal((await grant()).status, 200);
  });

  test('assertions from the wrong origin, without user verification or with a broken signature are refused and count as failures', async () => {
    const browser = new Browser(rampart.url);
    await browser.post('/api/v1/auth/login', { username: 'penny', password });
    const account = await rampart.running.database.db.selectFrom('accounts').select('id').where('username', '=', 'penny').executeTakeFirstOrThrow();
    for (const forgery of [{ origin: 'https://evil.example' }, { userVerified: false }, { alterSignature: true }]) {
      const { result } = await passkeySignIn(browser, forgery);
      assert.equal(result.status, 401, JSON.stringify(forgery));
      assert.equal(result.body['code'], 'auth.mfa_failed');
    }
    const throttle = await rampart.running.database.db.selectFrom('login_throttle').select('failures').where('key', '=', `acct:${account.id}`).executeTakeFirstOrThrow();
    assert.equal(throttle.failures, 3);
    assert.equal((await browser.get('/api/v1/auth/session')).body['stage'], 'mfa');
  });
});
