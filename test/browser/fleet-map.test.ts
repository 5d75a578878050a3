import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { chromiumSkipReason, launchChromium, type Person, type TestBrowser } from '../support/chromium.ts';
import { createTestDevice, droneReading, outsideRegistry, publish, publisherToken, truckReading, type TestDevice } from '../support/devices.ts';
import { createSignedInUser, signInAdmin, startTestRampart, type SignedIn, type TestRampart } from '../support/identity.ts';

// The live fleet map in Chromium: a dispatcher limited to the north depot sees
// its drones and vans (never the south's), a drone's marker moves within 2 s
// of its reading being acknowledged, a unit not heard for long is marked
// stale, a hostile name is text, the list finds a unit and shows it on the
// map, and signing out elsewhere stops the live updates.

const skip = chromiumSkipReason();
const XSS = '<img src=x onerror=alert(1)>';

/** With RAMPART_SHOTS set, a screenshot of the page into /tmp/shots/map-<name>.png. */
async function shot(page: Page, name: string): Promise<void> {
  if (process.env['RAMPART_SHOTS'] === undefined) return;
  await page.screenshot({ path: `/tmp/shots/map-${name}.png`, fullPage: false });
}

describe('live fleet map in Chromium', { skip }, () => {
  let rampart: TestRampart;
  let chromium: TestBrowser;
  let dispatcher: SignedIn;
  let person: Person;
  const devices = new Map<string, TestDevice>();

  /** Publishes a reading as the device would; resolves once it is acknowledged. */
  async function report(id: string, reading: Record<string, unknown>): Promise<void> {
    const device = devices.get(id);
    assert.ok(device);
    const hub = device.kind === 'drone' ? 'drone-telemetry' : 'truck-telemetry';
    const token = publisherToken(device, { hub, key: device.primaryKey, clock: rampart.clock });
    const sent = await publish(rampart.running, { hub, deviceId: id, token, contentType: 'application/json', body: JSON.stringify(reading) });
    assert.equal(sent.status, 201, sent.text);
  }

  const marker = (page: Page, id: string) => page.locator(`.leaflet-marker-icon[data-unit="${id}"]`);

  before(async () => {
    // Streams check the session twice a second, so a logout is felt at once.
    [rampart, chromium] = await Promise.all([startTestRampart({ streams: { sessionCheckMs: 500 } }), launchChromium()]);
    const admin = await signInAdmin(rampart);
    for (const depot of [
      { id: 'north', name: 'North depot', location: { lat: 52.52, lon: 13.405 } },
      { id: 'south', name: 'South depot', location: { lat: 48.137, lon: 11.575 } },
    ]) assert.equal((await admin.browser.post('/api/v1/depots', depot)).status, 201);
    const registry = outsideRegistry(rampart.running, rampart.clock);
    for (const [id, kind, depot, name] of [
      ['kestrel', 'drone', 'north', 'Kestrel'],
      ['van-7', 'truck', 'north', XSS],
      ['old-owl', 'drone', 'north', 'Old owl'],
      ['south-1', 'drone', 'south', 'Southern drone'],
    ] as const) {
      devices.set(id, await createTestDevice(registry, { id, kind, depot, name }));
    }
    const now = new Date().toISOString();
    await report('kestrel', droneReading({ lat: 52.53, lon: 13.41, heading: 45, battery: 76, timestamp: now }));
    await report('van-7', truckReading({ lat: 52.51, lon: 13.39, timestamp: now }));
    // Its own clock says it last reported an hour ago: stale.
    await report('old-owl', droneReading({ lat: 52.5, lon: 13.43, timestamp: new Date(Date.now() - 3_600_000).toISOString() }));
    await report('south-1', droneReading({ lat: 48.14, lon: 11.58, timestamp: now }));
    dispatcher = await createSignedInUser(rampart, admin, 'mapper', 'dispatcher');
    assert.equal((await admin.browser.request('PUT', `/api/v1/users/${dispatcher.accountId}/depots`, { depots: ['north'] })).status, 200);
    person = await chromium.person();
    await person.enterAs(rampart.url, dispatcher);
  });
  after(async () => {
    await chromium.close();
    await rampart.stop();
  });

  test('the dispatcher sees their depot\'s units with last-seen and battery, the stale one marked, names as text', async () => {
    const { page } = person;
    await page.goto(`${rampart.url}/console/map`);
    await page.getByRole('heading', { name: 'Live map', level: 1 }).waitFor();
    await page.getByRole('status').getByText('Live', { exact: true }).waitFor();
    await page.getByText('3 units · 2 live · 1 stale · 0 never heard').waitFor();
    for (const id of ['kestrel', 'van-7', 'old-owl']) await marker(page, id).waitFor();
    assert.equal(await marker(page, 'south-1').count(), 0, 'another depot\'s unit is not drawn');
    assert.equal(await page.locator('[data-unit="south-1"]').count(), 0, 'nor listed');
    assert.match((await marker(page, 'old-owl').locator('.unit').getAttribute('class')) ?? '', /\bstale\b/);
    assert.doesNotMatch((await marker(page, 'kestrel').locator('.unit').getAttribute('class')) ?? '', /\bstale\b/);
    const kestrel = page.locator('li[data-unit="kestrel"]');
    assert.match(await kestrel.innerText(), /Drone · \d+ s ago · 76 %/);
    assert.match(await page.locator('li[data-unit="old-owl"]').innerText(), /stale · 1 h ago/);
    // The hostile name is shown as it was typed, and made no element.
    assert.equal(await page.locator('li[data-unit="van-7"] .unit-name').textContent(), XSS);
    assert.equal(await page.locator('img[src="x"]').count(), 0);
    await page.locator('.leaflet-marker-icon.depot-icon').first().waitFor();
    assert.deepEqual(await person.accessibility(), []);
    await shot(page, 'fleet');
    person.assertClean();
  });

  test('a drone\'s marker moves within 2 s of its reading being acknowledged, without a reload', async () => {
    const { page } = person;
    // Page code as text (this file is type-checked without the DOM's types): where Leaflet has placed the marker.
    const placed = async () => String(await page.evaluate(`document.querySelector('.leaflet-marker-icon[data-unit="kestrel"]').style.transform`));
    const before = await placed();
    assert.match(before, /translate3d\(/);
    await report('kestrel', droneReading({ lat: 52.545, lon: 13.43, heading: 90, battery: 75, timestamp: new Date().toISOString() }));
    // Read in the page until it moves.
    const acknowledged = performance.now();
    let moved = false;
    while (!moved && performance.now() - acknowledged < 2000) moved = (await placed()) !== before;
    assert.ok(moved, `the marker had not moved ${Math.round(performance.now() - acknowledged)} ms after the reading was acknowledged`);
    await page.locator('li[data-unit="kestrel"]').getByText(/75 %/).waitFor();
    person.assertClean();
  });

  test('the list finds a unit by name and shows it on the map; the keyboard reaches it', async () => {
    const { page } = person;
    await page.getByLabel('Find a unit').fill('kest');
    await page.locator('.unit-list li[data-unit="van-7"]').waitFor({ state: 'detached' });
    assert.equal(await page.locator('.unit-list li').count(), 1);
    await page.getByRole('button', { name: /^Kestrel/ }).focus();
    await page.keyboard.press('Enter');
    await page.locator('li.focused[data-unit="kestrel"]').waitFor();
    await page.locator('.leaflet-tooltip').getByText('Kestrel (kestrel)').waitFor();
    await page.getByLabel('Find a unit').fill('');
    person.assertClean();
  });

  test('signing out elsewhere stops the live updates and the console returns to sign-in', async () => {
    const { page } = person;
    assert.equal((await dispatcher.browser.post('/api/v1/auth/logout')).status, 204);
    await page.getByRole('heading', { name: 'Sign in to Rampart' }).waitFor({ timeout: 20_000 });
    // The refusals that brought it there are the only problems.
    person.assertClean(/status of 401/);
  });
});
