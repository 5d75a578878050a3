import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { chromiumSkipReason, launchChromium, type Person, type TestBrowser } from '../support/chromium.ts';
import { shipmentBody, squareArea } from '../support/delivery.ts';
import { completeSetup, createSignedInUser, signIn, signInAdmin, startTestRampart, type SignedIn, type TestRampart } from '../support/identity.ts';

// The administrator's screens in Chromium: a device's keys shown once (gone
// after a reload, never in web storage), a user's setup code shown once, a
// key rotation behind a fresh second factor that the page follows to its
// summary, service principals, webhooks and hubs; and a driver, who sees none
// of it and is refused by the API when they try anyway.

const skip = chromiumSkipReason();
const SHOTS = '/tmp/shots';
const ADMIN_LABELS = ['Users', 'Devices', 'Service principals', 'Webhooks', 'Keys', 'Event hubs'];

describe('administration screens in Chromium', { skip }, () => {
  let rampart: TestRampart;
  let chromium: TestBrowser;
  let admin: SignedIn;
  let driver: SignedIn;
  let person: Person;
  const shot = (name: string) => person.page.screenshot({ path: `${SHOTS}/admin-${name}.png`, fullPage: true });
  const storage = () => person.page.evaluate<string>('JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])');
  const secrets = () => person.page.getByTestId('secret-value').allInnerTexts();

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    rampart = await startTestRampart();
    chromium = await launchChromium();
    admin = await signInAdmin(rampart);
    assert.equal((await admin.browser.post('/api/v1/depots', { id: 'north', name: 'North', location: { lat: 52.52, lon: 13.405 }, serviceArea: squareArea(52.52, 13.405) })).status, 201);
    driver = await createSignedInUser(rampart, admin, 'drew', 'driver');
    person = await chromium.person();
    await person.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: rampart.url });
    await person.enterAs(rampart.url, admin);
  });
  after(async () => {
    await chromium.close();
    await rampart.stop();
  });

  test('an administrator adds a device and sees its keys once: not after a reload, never in web storage', async () => {
    const { page } = person;
    await page.goto(`${rampart.url}/console/devices`);
    await page.getByRole('heading', { name: 'Devices', level: 1 }).waitFor();
    await page.getByText('No devices yet').waitFor();
    assert.deepEqual(await person.accessibility(), []);

    await page.getByRole('button', { name: 'Add device' }).click();
    await page.getByLabel('Device id').fill('kestrel-01');
    await page.getByLabel('Name', { exact: true }).fill('Kestrel');
    await page.getByLabel('Depot').fill('north');
    await page.getByRole('button', { name: 'Add device' }).click();
    await page.getByRole('heading', { name: 'Keys of Kestrel' }).waitFor();
    await page.getByText('Shown only now.').waitFor();
    const [primary = '', secondary = ''] = await secrets();
    assert.equal(Buffer.from(primary, 'base64').length, 32);
    assert.equal(Buffer.from(secondary, 'base64').length, 32);
    const stored = await admin.browser.get<{ primaryKey: string; secondaryKey: string }>('/api/v1/devices/kestrel-01/keys');
    assert.deepEqual(stored.body, { primaryKey: primary, secondaryKey: secondary }, 'the keys shown are the device\'s keys');

    await page.getByRole('button', { name: 'Copy primary key' }).click();
    await page.getByRole('status').getByText('Copied').waitFor();
    assert.equal(await page.evaluate<string>('navigator.clipboard.readText()'), primary);
    assert.deepEqual(await person.accessibility(), []);
    await shot('devices');
    for (const key of [primary, secondary]) assert.ok(!(await storage()).includes(key) && !page.url().includes(encodeURIComponent(key)));

    await page.reload();
    await page.getByRole('link', { name: 'kestrel-01' }).waitFor();
    assert.equal(await page.getByText(primary).count(), 0, 'a reload does not show the key again');
    assert.equal(await page.getByText(secondary).count(), 0);
    assert.equal(await storage(), '[[],[]]');

    // The device's own page: a SAS token, shown once like the keys.
    await page.getByRole('link', { name: 'kestrel-01' }).click();
    await page.getByRole('heading', { name: 'Kestrel', level: 1 }).waitFor();
    assert.deepEqual(await person.accessibility(), []);
    await page.getByRole('button', { name: 'Issue token' }).click();
    await page.getByRole('heading', { name: 'SAS token for Kestrel' }).waitFor();
    const [token = ''] = await secrets();
    assert.match(token, /^SharedAccessSignature sr=.*kestrel-01/);
    await shot('device');
    person.assertClean();
  });

  test('a user is created with a depot and the setup code is shown once; it works; disabling asks first', async () => {
    const { page } = person;
    await page.goto(`${rampart.url}/console/users`);
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'drew' }).waitFor();
    assert.deepEqual(await person.accessibility(), []);

    await page.getByRole('button', { name: 'Add user' }).click();
    await page.getByLabel('Username', { exact: true }).fill('casey');
    await page.getByLabel('North (north)').check();
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('heading', { name: 'Setup code for casey' }).waitFor();
    const [code = ''] = await secrets();
    assert.match(code, /^[0-9A-Z-]{20,}$/);
    await page.getByRole('link', { name: 'casey' }).waitFor();
    assert.deepEqual(await person.accessibility(), []);
    await shot('users');
    assert.ok(!(await storage()).includes(code));

    await page.reload();
    await page.getByRole('link', { name: 'casey' }).waitFor();
    assert.equal(await page.getByText(code).count(), 0, 'the code is not shown again');
    const casey = await completeSetup(rampart, 'casey', code);
    const user = await admin.browser.get<{ role: string; depots: string[] | null; status: string }>(`/api/v1/users/${casey.accountId}`);
    assert.deepEqual([user.body.role, user.body.depots, user.body.status], ['dispatcher', ['north'], 'active']);

    await page.getByRole('link', { name: 'casey' }).click();
    await page.getByRole('heading', { name: 'casey', level: 1 }).waitFor();
    await page.getByRole('table', { name: 'Live sessions' }).waitFor();
    assert.deepEqual(await person.accessibility(), []);
    await shot('user');
    await page.getByRole('button', { name: 'Disable account' }).click();
    const dialog = page.getByRole('dialog', { name: 'Disable casey?' });
    await dialog.waitFor();
    assert.deepEqual(await person.accessibility(), []);
    await dialog.getByRole('button', { name: 'Disable account' }).click();
    await page.getByText('casey is disabled; their sessions ended.').waitFor();
    assert.equal((await casey.browser.get('/api/v1/auth/session')).status, 401, 'their session is over');
    person.assertClean();
  });

  test('a key rotation asks for the second factor again, runs, and the page shows its summary and the new keys', async () => {
    const { page } = person;
    await page.goto(`${rampart.url}/console/keys`);
    await page.getByRole('table', { name: 'Data keys' }).waitFor();
    const keysBefore = await page.getByRole('table').locator('code').allInnerTexts();
    assert.ok(keysBefore.length >= 4);
    assert.deepEqual(await person.accessibility(), []);

    // The second factor goes stale: the rotation asks for it again.
    rampart.clock.advance((rampart.config.identity.stepUpMinutes + 1) * 60_000);
    await page.getByLabel('Reason').fill('yearly rotation');
    await page.getByRole('button', { name: 'Rotate all keys' }).click();
    await page.getByRole('dialog', { name: 'Rotate every data and signing key?' }).getByRole('button', { name: 'Rotate now' }).click();
    await page.getByRole('heading', { name: 'Confirm it is you' }).waitFor();
    assert.deepEqual(await person.accessibility(), []);
    await page.getByLabel('Six-digit code from your authenticator app').fill(admin.code());
    await page.getByRole('button', { name: 'Continue' }).click();

    // Running: the server waits (by its clock) for other servers to drop the old keys.
    await page.getByText('Waiting for running servers to stop using the old keys').waitFor();
    await shot('keys-running');
    rampart.clock.advance(7_000);
    await page.getByText('Keys rotated').waitFor({ timeout: 15_000 });
    await page.getByText(/3 new signing keys/).waitFor();
    const keysAfter = await page.getByRole('table').locator('code').allInnerTexts();
    assert.ok(keysAfter.length > keysBefore.length, 'new keys are listed');
    assert.ok(keysAfter.some((id) => !keysBefore.includes(id)));
    assert.ok(!(await page.getByRole('button', { name: 'Rotate all keys' }).isDisabled()), 'another may start now');
    assert.deepEqual(await person.accessibility(), []);
    await shot('keys');
    // The refused first try (step_up_required) is the only problem the console logged.
    person.assertClean(/status of 401/);
    person.problems.length = 0;
  });

  test('service principals, webhooks and hubs: secrets once, changes confirmed', async () => {
    const { page } = person;
    await page.goto(`${rampart.url}/console/service-principals`);
    await page.getByText('No service principals yet.').waitFor();
    assert.deepEqual(await person.accessibility(), []);
    await page.getByRole('button', { name: 'Add service principal' }).click();
    await page.getByLabel('Name', { exact: true }).fill('billing-sync');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('heading', { name: 'Credentials of billing-sync' }).waitFor();
    const [clientId = '', clientSecret = ''] = await secrets();
    const token = await fetch(`${rampart.url}/api/v1/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }) });
    assert.equal(token.status, 200, 'the credentials shown work');
    await page.getByRole('cell', { name: 'billing-sync', exact: true }).waitFor();
    assert.deepEqual(await person.accessibility(), []);
    await shot('service-principals');

    await page.goto(`${rampart.url}/console/webhooks`);
    await page.getByText('No webhook endpoints yet.').waitFor();
    assert.deepEqual(await person.accessibility(), []);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByLabel('Name', { exact: true }).fill('ERP');
    await page.getByLabel('URL').fill('https://erp.example.com/hooks');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByRole('heading', { name: 'Signing secret of ERP' }).waitFor();
    const [secret = ''] = await secrets();
    assert.match(secret, /^whsec_/);
    await shot('webhooks');
    // The step-up in the page replaced the session it shared with the API client: a session of its own.
    const seeding = await signIn(rampart, admin);
    const shipment = await seeding.post('/api/v1/shipments', shipmentBody());
    assert.equal(shipment.status, 201, JSON.stringify(shipment.body));
    await page.getByRole('link', { name: 'ERP' }).click();
    await page.getByRole('heading', { name: 'ERP', level: 1 }).waitFor();
    await page.getByRole('cell', { name: /shipment\.created/ }).waitFor();
    assert.deepEqual(await person.accessibility(), []);
    await shot('webhook');

    await page.goto(`${rampart.url}/console/hubs`);
    await page.getByRole('cell', { name: 'drone-telemetry', exact: true }).waitFor();
    assert.deepEqual(await person.accessibility(), []);
    await page.getByRole('button', { name: 'Add hub' }).click();
    await page.getByLabel('Name', { exact: true }).fill('parcel-lockers');
    await page.getByRole('button', { name: 'Create hub' }).click();
    await page.getByText('Hub parcel-lockers created').waitFor();
    await page.getByRole('button', { name: 'Change parcel-lockers' }).click();
    await page.getByLabel('Keep events for (hours)').fill('48');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('dialog', { name: 'Change parcel-lockers?' }).getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Hub parcel-lockers changed.').waitFor();
    await page.getByRole('row', { name: /parcel-lockers/ }).getByText('2 days').waitFor();
    assert.deepEqual(await person.accessibility(), []);
    await shot('hubs');
    person.assertClean();
  });

  test('a device, user or webhook endpoint that does not exist: the page names what was asked for, says why, and leads back', async () => {
    const { page } = person;
    for (const [path, title, back] of [['/console/devices/no-such-device', 'Device', 'All devices'], ['/console/users/acct_nosuchaccount', 'User', 'All users'], [`/console/webhooks/whk_${'A'.repeat(22)}`, 'Webhook endpoint', 'All endpoints']] as const) {
      await page.goto(`${rampart.url}${path}`);
      await page.getByRole('heading', { name: title, level: 1, exact: true }).waitFor();
      assert.match(await page.getByRole('alert').innerText(), /not found/i, path);
      assert.equal(await page.getByRole('link', { name: back }).count(), 1, path);
      assert.deepEqual(await person.accessibility(), []);
    }
    await page.getByRole('link', { name: 'All endpoints' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    person.assertClean(/status of 404/);
  });

  test('a driver sees no administration screens, gets the not-available page, and the API refuses them', async () => {
    const driverPerson = await chromium.person();
    const { page } = driverPerson;
    await driverPerson.enterAs(rampart.url, driver);
    await page.goto(`${rampart.url}/console/`);
    const nav = page.getByRole('navigation', { name: 'Console' });
    await nav.getByRole('link', { name: 'My account' }).waitFor();
    const groups = await nav.getByRole('heading').allInnerTexts();
    assert.ok(!groups.some((g) => /administration/i.test(g)), `groups: ${groups.join(', ')}`);
    const links = await nav.getByRole('link').allInnerTexts();
    assert.deepEqual(links.filter((l) => ADMIN_LABELS.includes(l)), []);

    await page.goto(`${rampart.url}/console/users`);
    await page.getByRole('heading', { name: 'Not here' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Users' }).count(), 0);
    assert.deepEqual(await driverPerson.accessibility(), []);
    const refused = await page.evaluate<{ status: number; code: string }>("fetch('/api/v1/users').then(async (r) => ({ status: r.status, code: (await r.json()).code }))");
    assert.deepEqual(refused, { status: 403, code: 'access.denied' });
    await page.screenshot({ path: `${SHOTS}/admin-driver-not-here.png` });
    driverPerson.assertClean(/status of 403/);
    await driverPerson.context.close();
  });
});
