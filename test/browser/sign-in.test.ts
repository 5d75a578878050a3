import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { totpCode } from '../../src/identity/mfa/totp.ts';
import { chromiumSkipReason, launchChromium, type TestBrowser } from '../support/chromium.ts';
import { createSignedInUser, signInAdmin, startTestRampart, type SignedIn, type TestRampart } from '../support/identity.ts';

// First use and sign-in, as a person does them in Chromium: the setup code,
// a password, an authenticator app enrolled from the page's own key, the
// recovery codes shown once; then signing in with a wrong code, a right one,
// and what the page says when sign-in is refused.

const skip = chromiumSkipReason();

describe('console sign-in in Chromium', { skip }, () => {
  let rampart: TestRampart;
  let chromium: TestBrowser;

  before(async () => {
    rampart = await startTestRampart();
    chromium = await launchChromium();
  });
  after(async () => {
    await chromium.close();
    await rampart.stop();
  });

  test('first use: setup code → password → authenticator app → recovery codes once → the console', async (t) => {
    // A server of its own: its administrator is set up here, through the page.
    const fresh = await startTestRampart();
    t.after(() => fresh.stop());
    const person = await chromium.person();
    const { page } = person;
    const response = await page.goto(`${fresh.url}/console/`);
    assert.equal(response?.status(), 200);
    const csp = response.headers()['content-security-policy'] ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-(inline|eval)/);
    assert.equal(response.headers()['cache-control'], 'no-store', 'the page itself is never cached');

    await page.getByRole('heading', { name: 'Sign in to Rampart' }).waitFor();
    assert.deepEqual(await person.accessibility(), []);
    await page.getByRole('link', { name: 'Set up your account with a setup code' }).click();
    await page.getByRole('heading', { name: 'Set up your account' }).waitFor();
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Setup code').fill(fresh.setupCode);
    await page.getByLabel('Choose a password').fill('password');
    await page.getByLabel('Repeat the password').fill('password');
    await page.getByText('Very weak').waitFor();
    assert.deepEqual(await person.accessibility(), []);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('alert').getByText('Password not accepted').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /too common or has appeared in a breach/, 'the server\'s reason is shown');

    const password = 'lantern orchard vivid compass 41';
    await page.getByLabel('Choose a password').fill(password);
    await page.getByLabel('Repeat the password').fill(password);
    await page.getByRole('button', { name: 'Set password' }).click();

    await page.getByRole('heading', { name: 'Add a second factor' }).waitFor();
    await page.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
    const secret = (await page.getByTestId('totp-secret').innerText()).replaceAll(' ', '');
    assert.match(secret, /^[A-Z2-7]{16,}$/);
    assert.deepEqual(await person.accessibility(), []);
    await page.getByLabel('The six-digit code it shows now').fill('000000' === totpCode(secret, fresh.clock.now().getTime()) ? '111111' : '000000');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('alert').getByText('Second factor not accepted').waitFor();
    await page.getByLabel('The six-digit code it shows now').fill(totpCode(secret, fresh.clock.now().getTime()));
    await page.getByRole('button', { name: 'Confirm' }).click();

    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    const codes = await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').allInnerTexts();
    assert.equal(codes.length, 10);
    assert.ok(await page.getByRole('link', { name: 'Download' }).getAttribute('href').then((href) => href?.startsWith('blob:')));
    assert.deepEqual(await person.accessibility(), []);
    assert.equal(await page.getByRole('button', { name: 'Continue' }).isDisabled(), true, 'not before the person says they saved them');
    await page.getByLabel('I have saved these codes').check();
    await page.getByRole('button', { name: 'Continue' }).click();

    await page.getByRole('navigation', { name: 'Console' }).waitFor();
    // The start page is the first screen the role may use, not a dead end.
    await page.waitForURL((url) => url.pathname !== '/console/' && url.pathname.startsWith('/console/'));
    assert.equal(await page.getByRole('heading', { name: 'Not here' }).count(), 0);
    await page.getByRole('link', { name: 'My account' }).click();
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    assert.deepEqual(await person.accessibility(), []);

    // Nothing of the session or the codes in storage or the address bar.
    const stored = await page.evaluate('JSON.stringify({ local: Object.entries(localStorage), session: Object.entries(sessionStorage) })');
    assert.equal(stored, '{"local":[],"session":[]}');
    assert.ok(!page.url().includes(codes[0]!) && !page.url().includes(secret));

    // The codes are gone after a reload: the server keeps only their hashes.
    await page.reload();
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    assert.equal(await page.getByText(codes[0]!).count(), 0);
    person.assertClean(/status of 40[01]/);
    await person.context.close();
  });

  describe('signing in', () => {
    let admin: SignedIn;
    let dispatcher: SignedIn;
    before(async () => {
      admin = await signInAdmin(rampart);
      dispatcher = await createSignedInUser(rampart, admin, 'dana', 'dispatcher');
    });

    test('a wrong code is refused with the reason, the right one signs in and returns to the page asked for', async () => {
      const person = await chromium.person();
      const { page } = person;
      await page.goto(`${rampart.url}/console/account`);
      await page.waitForURL(/\/console\/sign-in\?next=%2Fconsole%2Faccount$/);
      await page.getByRole('heading', { name: 'Sign in to Rampart' }).waitFor();
      await page.getByLabel('Username').fill(dispatcher.username);
      await page.getByLabel('Password').fill(dispatcher.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Confirm it is you' }).waitFor();
      assert.deepEqual(await person.accessibility(), []);
      rampart.clock.advance(30_000);
      const right = dispatcher.code();
      await page.getByLabel('Six-digit code from your authenticator app').fill(right === '123456' ? '654321' : '123456');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('alert').getByText('Second factor not accepted').waitFor();
      await page.getByLabel('Six-digit code from your authenticator app').fill(right);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('heading', { name: 'My account' }).waitFor();
      assert.equal(await page.getByRole('link', { name: 'My account' }).getAttribute('aria-current'), 'page');
      person.assertClean(/status of 401/);
      await person.context.close();
    });

    test('a wrong password says sign-in failed without saying which part, and repeated failures say to wait', async () => {
      const person = await chromium.person();
      const { page } = person;
      await page.goto(`${rampart.url}/console/sign-in`);
      for (let i = 0; i < 3; i += 1) {
        await page.getByLabel('Username').fill(dispatcher.username);
        await page.getByLabel('Password').fill(`not the password ${i}`);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('alert').getByText('Sign-in failed').waitFor();
        assert.equal(await page.getByLabel('Password').inputValue(), '', 'the wrong password is cleared');
      }
      const alert = await page.getByRole('alert').innerText();
      assert.match(alert, /username or password is wrong, or sign-in is paused/);
      assert.doesNotMatch(alert, /unknown|no such user/i);
      person.assertClean(/status of 401/);
      await person.context.close();
    });

    test('after repeated wrong codes the second-factor step says how long to wait, and the lockout holds', async () => {
      const mallory = await createSignedInUser(rampart, admin, 'morgan', 'dispatcher');
      const person = await chromium.person();
      const { page } = person;
      await page.goto(`${rampart.url}/console/sign-in`);
      await page.getByLabel('Username').fill(mallory.username);
      await page.getByLabel('Password').fill(mallory.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Confirm it is you' }).waitFor();
      rampart.clock.advance(30_000);
      const right = mallory.code();
      const wrong = right === '000000' ? '999999' : '000000';
      const code = page.getByLabel('Six-digit code from your authenticator app');
      for (let attempt = 1; attempt <= rampart.config.identity.throttle.freeFailures; attempt += 1) {
        await code.fill(wrong);
        const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/mfa/totp'));
        await page.getByRole('button', { name: 'Continue' }).click();
        assert.equal((await answered).status(), 401);
      }
      await page.getByRole('alert').getByText(`Try again in ${rampart.config.identity.throttle.baseLockSeconds} s.`).waitFor();
      // Locked: even the right code is refused until the wait is over.
      await code.fill(right);
      const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/mfa/totp'));
      await page.getByRole('button', { name: 'Continue' }).click();
      const refused = await answered;
      assert.equal(refused.status(), 401);
      assert.equal(refused.headers()['retry-after'], String(rampart.config.identity.throttle.baseLockSeconds));
      await page.getByRole('alert').getByText(/Try again in \d+ s\./).waitFor();
      assert.equal(await page.getByRole('heading', { name: 'Confirm it is you' }).count(), 1);
      person.assertClean(/status of 401/);
      await person.context.close();
    });
  });
});
