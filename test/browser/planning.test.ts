import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { chromiumSkipReason, launchChromium, type Person, type TestBrowser } from '../support/chromium.ts';
import { signInAdmin, startTestRampart, type Browser, type SignedIn, type TestRampart } from '../support/identity.ts';
import { createTestDevice, outsideRegistry, pointAt, routeWorld, type RouteWorld } from '../support/routes.ts';

// Planning in Chromium: a dispatcher plans a depot's day, opens a route,
// reorders its stops by dragging and with the keyboard (the pins and the line
// on the map follow, the order is stored), meets a concurrent change; a drone
// mission through a no-fly zone is refused with the server's reasons, another
// is planned and cannot be sent to an offline drone; the board marks a stop
// the driver failed and lists it under exceptions as the board refreshes.

const skip = chromiumSkipReason();
const ZONE = [[[13.55, 52.45], [13.65, 52.45], [13.65, 52.6], [13.55, 52.6], [13.55, 52.45]]] as [number, number][][];

type Stop = { id: string; shipmentId: string; trackingNumber: string; status: string };
type Route = { id: string; driverId: string; revision: number; stops: Stop[] };

/** With RAMPART_SHOTS set, a screenshot of the page into /tmp/shots/planning-<name>.png. */
async function shot(page: Page, name: string): Promise<void> {
  if (process.env['RAMPART_SHOTS'] === undefined) return;
  await page.screenshot({ path: `/tmp/shots/planning-${name}.png`, fullPage: false });
}

describe('planning screens in Chromium', { skip }, () => {
  let rampart: TestRampart;
  let chromium: TestBrowser;
  let admin: SignedIn;
  let world: RouteWorld;
  let dispatcher: Browser;
  let today: string;

  before(async () => {
    [rampart, chromium] = await Promise.all([startTestRampart({ planning: { noFlyZones: { 'Airport East': ZONE } } }), launchChromium()]);
    admin = await signInAdmin(rampart);
    world = await routeWorld(rampart, admin, { drivers: ['pdrivera', 'pdriverb'], tag: 'p' });
    today = rampart.clock.now().toISOString().slice(0, 10);
    const window = { start: `${today}T00:00:00Z`, end: `${today}T23:59:00Z` };
    for (const bearing of [20, 60, 100, 200, 240, 280]) await world.shipment(pointAt(bearing, 3 + bearing / 100), { window });
    dispatcher = await world.fresh(world.dispatcher);
  });
  after(async () => {
    await chromium.close();
    await rampart.stop();
  });

  /** Signed in through the page (the dispatcher unless told): password, then a fresh code. */
  const signedIn = async (user: SignedIn = world.dispatcher): Promise<Person> => {
    const person = await chromium.person();
    const { page } = person;
    await page.goto(`${rampart.url}/console/sign-in`);
    await page.getByLabel('Username').fill(user.username);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Confirm it is you' }).waitFor();
    rampart.clock.advance(30_000);
    await page.getByLabel('Six-digit code from your authenticator app').fill(user.code());
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('navigation', { name: 'Console' }).waitFor();
    return person;
  };
  const routeOf = async (id: string) => (await dispatcher.get<Route>(`/api/v1/routes/${id}`)).body;
  const listed = (page: Page) => page.locator('ol.planning-stops li .planning-tracking').allInnerTexts();
  /** The stop pins' labels in their numbers' order, and the route line's path. */
  const drawn = async (page: Page) => {
    const titles = await Promise.all((await page.locator('.leaflet-marker-icon[title^="Stop "]').all()).map(async (pin) => (await pin.getAttribute('title')) ?? ''));
    const order = titles.map((t) => /^Stop (\d+): (.+)$/.exec(t)).filter((m) => m !== null).sort((a, b) => Number(a[1]) - Number(b[1])).map((m) => m[2] ?? '');
    return { order, line: (await page.locator('path.route-line').getAttribute('d')) ?? '' };
  };
  /** Waits until every stop's pin carries its number in this order. */
  const waitDrawn = async (page: Page, order: readonly string[]) => {
    for (const [i, tracking] of order.entries()) await page.locator(`.leaflet-marker-icon[title="Stop ${i + 1}: ${tracking}"]`).waitFor();
  };

  test('plans the day, shows a route on the map, reorders by dragging and by keyboard, and stops at a concurrent change', async () => {
    const person = await signedIn();
    const { page } = person;
    await page.goto(`${rampart.url}/console/routes?depot=north&date=${today}`);
    await page.getByRole('heading', { name: 'Route planning' }).waitFor();
    await page.getByText(`No routes on ${today} yet.`).waitFor();
    assert.deepEqual(await person.accessibility(), []);
    await page.getByRole('button', { name: 'Plan the day' }).click();
    await page.getByText('Planned 2 routes with 6 stops.').waitFor();
    await page.getByRole('link', { name: 'Route of pdrivera' }).waitFor();
    assert.equal(await page.locator('table.planning-routes tbody tr').count(), 2);
    await shot(page, 'routes');
    // Planning again finds nothing left, in the server's words.
    await page.getByRole('button', { name: 'Plan the day' }).click();
    await page.getByRole('alert').getByText(/Nothing to plan: Depot north has no unassigned truck shipments/).waitFor();

    await page.getByRole('link', { name: 'Route of pdrivera' }).click();
    await page.getByRole('heading', { name: `Route of pdrivera on ${today}` }).waitFor();
    const id = new URL(page.url()).pathname.split('/').at(-1) ?? '';
    const planned = await routeOf(id);
    const tracking = planned.stops.map((s) => s.trackingNumber);
    assert.equal(tracking.length, 3);
    await waitDrawn(page, tracking);
    assert.deepEqual(await listed(page), tracking, 'the stops in the planned order');
    const before = await drawn(page);
    assert.deepEqual(before.order, tracking, 'numbered pins in the same order');
    assert.equal(await page.locator('.leaflet-marker-icon[title^="Depot "]').count(), 1);
    assert.deepEqual(await person.accessibility(), []);
    await shot(page, 'route');

    // Drag the third stop onto the first: it becomes stop 1.
    const items = page.locator('ol.planning-stops li');
    await items.nth(2).dragTo(items.nth(0));
    const dragged = [tracking[2] ?? '', tracking[0] ?? '', tracking[1] ?? ''];
    await page.getByRole('status').getByText(`Moved ${dragged[0]} to stop 1. Order saved.`).waitFor();
    await waitDrawn(page, dragged);
    assert.deepEqual(await listed(page), dragged);
    const afterDrag = await drawn(page);
    assert.deepEqual(afterDrag.order, dragged, 'the pins are renumbered');
    assert.notEqual(afterDrag.line, before.line, 'the line is redrawn');
    const stored = await routeOf(id);
    assert.deepEqual(stored.stops.map((s) => s.trackingNumber), dragged, 'the new order is stored');
    assert.equal(stored.revision, planned.revision + 1);

    // The same with the keyboard: the focus stays on the stop that moved.
    await page.getByRole('button', { name: `Move ${dragged[1] ?? ''} down` }).focus();
    await page.keyboard.press('Enter');
    const keyed = [dragged[0] ?? '', dragged[2] ?? '', dragged[1] ?? ''];
    await page.getByRole('status').getByText(`Moved ${dragged[1] ?? ''} to stop 3. Order saved.`).waitFor();
    await waitDrawn(page, keyed);
    assert.deepEqual((await drawn(page)).order, keyed);
    assert.deepEqual((await routeOf(id)).stops.map((s) => s.trackingNumber), keyed);
    assert.match(await page.evaluate<string>('document.activeElement?.getAttribute("aria-label") ?? ""'), new RegExp(`^Move ${dragged[1] ?? ''} (up|down)$`));

    // Someone else reorders meanwhile: the page refuses to overwrite it, says so and shows their order.
    const theirs = await routeOf(id);
    const reversed = [...theirs.stops].reverse();
    assert.equal((await dispatcher.request('PUT', `/api/v1/routes/${id}/order`, { stopIds: reversed.map((s) => s.id) })).status, 200);
    await page.getByRole('button', { name: `Move ${keyed[1] ?? ''} up` }).click();
    await page.getByRole('alert').getByText(/The route changed while you were looking at it \(revision \d+, now \d+\), so your change was not saved/).waitFor();
    await waitDrawn(page, reversed.map((s) => s.trackingNumber));
    assert.deepEqual(await listed(page), reversed.map((s) => s.trackingNumber));
    assert.deepEqual((await routeOf(id)).stops.map((s) => s.id), reversed.map((s) => s.id), 'their order stands');
    assert.deepEqual(await person.accessibility(), []);
    person.assertClean(/status of 40[19]/);
    await person.context.close();
  });

  test('a drone mission through a no-fly zone is refused with the reasons; another is planned and cannot be sent offline', async () => {
    const device = await createTestDevice(outsideRegistry(rampart.running, rampart.clock), { id: 'pdrone-n1', kind: 'drone', depot: 'north' });
    const adminBrowser = await world.fresh(admin);
    assert.equal((await adminBrowser.post('/api/v1/drones', { id: 'hawk', name: 'Hawk', depotId: 'north', deviceId: device.id, maxRangeKm: 30, maxPayloadKg: 5 })).status, 201);
    const window = { start: `${today}T08:00:00Z`, end: `${today}T18:00:00Z` };
    const blocked = await world.shipment({ lat: 52.52, lon: 13.7 }, { mode: 'drone', parcel: { weightKg: 1 }, window });
    const fine = await world.shipment(pointAt(270, 3), { mode: 'drone', parcel: { weightKg: 1 }, window });
    const trackingOf = async (id: string) => (await dispatcher.get<{ trackingNumber: string }>(`/api/v1/shipments/${id}`)).body.trackingNumber;

    const person = await signedIn();
    const { page } = person;
    await page.goto(`${rampart.url}/console/missions?depot=north`);
    await page.getByRole('heading', { name: 'Drone missions' }).waitFor();
    await page.getByText('No-fly zones on the map (dashed red): Airport East.').waitFor();
    assert.equal(await page.locator('path.area.no-fly').count(), 1, 'the zone is drawn');
    await page.getByLabel('Drone delivery').selectOption({ label: `${await trackingOf(blocked)} · 1 kg` });
    await page.getByRole('button', { name: 'Plan mission' }).click();
    const alert = page.getByRole('alert');
    await alert.getByText('no-fly zone "Airport East": the straight leg crosses it').waitFor();
    assert.match(await alert.innerText(), /Drone mission refused/);
    await page.locator('path.area.no-fly.blocking').waitFor();
    assert.deepEqual(await person.accessibility(), []);
    await shot(page, 'missions-refused');

    await page.getByLabel('Drone delivery').selectOption({ label: `${await trackingOf(fine)} · 1 kg` });
    await page.getByRole('button', { name: 'Plan mission' }).click();
    await page.getByRole('heading', { name: `Mission for ${await trackingOf(fine)}` }).waitFor();
    assert.match(page.url(), /\/console\/missions\/msn_[A-Za-z0-9_-]{22}$/);
    assert.equal(await page.locator('table.planning-waypoints tbody tr').count(), 5);
    await page.locator('path.planning-flight[d*="L"]').waitFor({ state: 'attached' });
    assert.deepEqual(await person.accessibility(), []);
    await shot(page, 'mission');
    await page.getByRole('button', { name: 'Send to the drone' }).click();
    await page.getByRole('alert').getByText(/Drone not reachable: Drone hawk \(device pdrone-n1\) is not connected/).waitFor();
    person.assertClean(/status of 4(01|09|22)/);
    await person.context.close();
  });

  test('the board marks a failed stop as failed and lists it under exceptions when it next refreshes', async () => {
    const routes = (await dispatcher.get<{ items: Route[] }>(`/api/v1/routes?depot=north&date=${today}`)).body.items;
    const driver = world.drivers[1];
    const route = routes.find((r) => r.driverId === driver?.accountId);
    assert.ok(driver !== undefined && route !== undefined);
    const detail = await routeOf(route.id);
    const failing = detail.stops[0];
    assert.ok(failing);

    const person = await signedIn();
    const { page } = person;
    await page.goto(`${rampart.url}/console/board?depot=north&date=${today}`);
    await page.getByRole('heading', { name: /^(Today's board|Board of )/ }).waitFor();
    const row = page.locator(`tr[data-stop="${failing.id}"]`);
    await row.waitFor();
    assert.notEqual(await row.locator('.badge').innerText(), 'Failed');
    assert.equal(await page.getByRole('list', { name: 'Failed deliveries' }).count(), 0, 'no failure yet');

    // The driver starts the route and fails the first stop; the board shows it on its next refresh.
    const driverBrowser = await world.fresh(driver);
    assert.equal((await driverBrowser.post('/api/v1/driver/route/start', { routeId: route.id })).status, 200);
    assert.equal((await driverBrowser.post(`/api/v1/driver/stops/${failing.id}/fail`, { reason: 'recipient_absent' })).status, 200);
    await row.locator('.badge', { hasText: 'Failed' }).waitFor();
    const failed = page.getByRole('list', { name: 'Failed deliveries' }).getByRole('listitem').filter({ hasText: failing.trackingNumber });
    await failed.waitFor();
    assert.match(await failed.innerText(), /Recipient absent/);
    assert.match(await failed.innerText(), /Route of pdriverb, stop 1/);
    assert.deepEqual(await person.accessibility(), []);
    await shot(page, 'board');
    person.assertClean(/status of 401/);
    await person.context.close();

    // The driver sees their own route on the board, without depots or missions (and without a refused call).
    const own = await signedIn(driver);
    await own.page.getByRole('link', { name: "Today's board" }).waitFor();
    assert.equal(await own.page.getByRole('link', { name: 'Drone missions' }).count(), 0);
    await own.page.goto(`${rampart.url}/console/board?date=${today}`);
    await own.page.locator(`tr[data-stop="${failing.id}"] .badge`, { hasText: 'Failed' }).waitFor();
    assert.equal(await own.page.locator('article.planning-board-route').count(), 1, 'only their route');
    assert.equal(await own.page.getByLabel('Depot', { exact: true }).count(), 0);
    own.assertClean(/status of 401/);
    await own.context.close();
  });
});
