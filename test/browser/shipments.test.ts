import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { chromiumSkipReason, launchChromium, type Person, type TestBrowser } from '../support/chromium.ts';
import { CSV_HEADER, csvLine, rawRequest, recipientFor, shipmentBody, squareArea } from '../support/delivery.ts';
import { createSignedInUser, signInAdmin, startTestRampart, type SignedIn, type TestRampart } from '../support/identity.ts';
import { submissionFor } from '../support/proofs.ts';

// The dispatcher's shipment screens in Chromium: search and filters kept in
// the address (a reload keeps them, Back returns), cursor pages, a shipment's
// history; rotating its tracking link (the old link stops answering, the new
// one answers); a CSV import refused for one bad row with nothing written,
// then accepted once fixed; a recipient name that is markup shown as text, and
// a delivered shipment's proof images from blob URLs with its receipt checked.

const skip = chromiumSkipReason();
const SHOTS = '/tmp/shots';
const XSS = '<img src=x onerror=alert(1)>';

type Created = { row: number; id: string; trackingNumber: string; trackingPath: string };

/** With RAMPART_SHOTS set, a screenshot of the whole page into /tmp/shots/shipments-<name>.png. */
async function shot(page: Page, name: string): Promise<void> {
  if (process.env['RAMPART_SHOTS'] === undefined) return;
  await page.screenshot({ path: `${SHOTS}/shipments-${name}.png`, fullPage: true });
}

describe('shipment screens in Chromium', { skip }, () => {
  let rampart: TestRampart;
  let chromium: TestBrowser;
  let admin: SignedIn;
  let dispatcher: SignedIn;
  let driver: SignedIn;
  let auditor: SignedIn;
  let delivered: { id: string; trackingNumber: string };
  let trucks: Created[];
  let drones: Created[];
  const db = () => rampart.running.database.db;
  const storedShipments = async () => Number((await db().selectFrom('shipments').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow()).n);

  /** Imports CSV lines through the API (north by default) and returns the created shipments. */
  const imported = async (lines: string[]): Promise<Created[]> => {
    const answer = await rawRequest(admin.browser, 'POST', '/api/v1/shipments/import?depot=north', [CSV_HEADER, ...lines].join('\n'));
    assert.equal(answer.status, 200, answer.text);
    return (JSON.parse(answer.text) as { created: Created[] }).created;
  };

  /** A person's own browser (the dispatcher's unless told), on a page of the console with its navigation drawn. */
  const dispatcherAt = (path: string) => personAt(path, dispatcher);
  const personAt = async (path: string, user: SignedIn): Promise<Person> => {
    const person = await chromium.person();
    await person.enterAs(rampart.url, user);
    await person.page.goto(`${rampart.url}${path}`);
    await person.page.getByRole('navigation', { name: 'Console' }).waitFor();
    return person;
  };
  const summary = (page: Page) => page.locator('p.shipments-summary');
  const trackingNumbers = (page: Page) => page.locator('table.shipments-table tbody tr td:first-child').allInnerTexts();

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    [rampart, chromium] = await Promise.all([startTestRampart(), launchChromium()]);
    admin = await signInAdmin(rampart);
    for (const depot of [{ id: 'north', name: 'North', location: { lat: 52.52, lon: 13.405 }, serviceArea: squareArea(52.52, 13.405) }, { id: 'south', name: 'South', location: { lat: 48.137, lon: 11.575 } }]) {
      assert.equal((await admin.browser.post('/api/v1/depots', depot)).status, 201);
    }
    dispatcher = await createSignedInUser(rampart, admin, 'sdisp', 'dispatcher');
    driver = await createSignedInUser(rampart, admin, 'sdrive', 'driver');
    auditor = await createSignedInUser(rampart, admin, 'saudit', 'auditor');
    assert.equal((await admin.browser.request('PUT', `/api/v1/drivers/${driver.accountId}`, { homeDepotId: 'north' })).status, 200);
    // 30 truck shipments on 2 July (more than one page of 25) and 3 drones on 3 July.
    trucks = await imported(Array.from({ length: 30 }, (_, i) => csvLine({ reference: `TRK-${String(i + 1).padStart(3, '0')}` })));
    drones = await imported(Array.from({ length: 3 }, (_, i) => csvLine({ reference: `DRN-${i + 1}`, mode: 'drone', window_start: '2026-07-03T08:00:00Z', window_end: '2026-07-03T09:00:00Z' })));
    const first = drones[0]!;
    assert.equal((await admin.browser.request('PUT', `/api/v1/shipments/${first.id}/assignment`, { driverId: driver.accountId })).status, 200);
  });
  after(async () => {
    await chromium.close();
    await rampart.stop();
  });

  test('a dispatcher pages through the list, filters and searches with the view in the address, and opens a shipment with its history', async () => {
    const person = await dispatcherAt('/console/shipments');
    const { page } = person;
    await page.getByRole('heading', { name: 'Shipments', level: 1 }).waitFor();
    await summary(page).getByText('25 shipments on page 1.').waitFor();
    await page.getByRole('link', { name: 'New shipment' }).waitFor();
    assert.deepEqual(await person.accessibility(), []);
    await shot(page, 'list');
    const firstPage = await trackingNumbers(page);
    await page.getByRole('button', { name: 'Next' }).click();
    await summary(page).getByText('8 shipments on page 2.').waitFor();
    const secondPage = await trackingNumbers(page);
    assert.equal(new Set([...firstPage, ...secondPage]).size, 33, 'every shipment once over the two pages');
    await page.getByRole('button', { name: 'Previous' }).click();
    await summary(page).getByText('25 shipments on page 1.').waitFor();
    assert.deepEqual(await trackingNumbers(page), firstPage);

    // Filters: two statuses, a mode and a first day; the address carries them.
    await page.getByLabel('Created', { exact: true }).check();
    await page.getByLabel('Assigned', { exact: true }).check();
    await page.getByLabel('Mode').selectOption('drone');
    await page.getByLabel('Window from (UTC day)').fill('2026-07-03');
    await page.getByRole('button', { name: 'Show shipments' }).click();
    await summary(page).getByText('3 shipments on page 1, filtered.').waitFor();
    const filtered = new URL(page.url());
    assert.deepEqual(filtered.searchParams.getAll('status'), ['created', 'assigned']);
    assert.equal(filtered.searchParams.get('mode'), 'drone');
    assert.equal(filtered.searchParams.get('from'), '2026-07-03');
    assert.deepEqual((await trackingNumbers(page)).sort(), drones.map((d) => d.trackingNumber).sort());
    await page.reload();
    await summary(page).getByText('3 shipments on page 1, filtered.').waitFor();
    assert.equal(await page.getByLabel('Assigned', { exact: true }).isChecked(), true);
    assert.equal(await page.getByLabel('Delivered', { exact: true }).isChecked(), false);
    assert.equal(await page.getByLabel('Mode').inputValue(), 'drone');
    assert.equal(await page.getByRole('row').filter({ hasText: drones[0]!.trackingNumber }).locator('.badge').innerText(), 'Assigned');
    await shot(page, 'filtered');

    // A search by reference narrows further; Back returns to the filtered view.
    await page.getByLabel('Tracking number or reference').fill('DRN-2');
    await page.getByRole('button', { name: 'Show shipments' }).click();
    await summary(page).getByText('1 shipment on page 1, filtered.').waitFor();
    assert.deepEqual(await trackingNumbers(page), [drones[1]!.trackingNumber]);
    await page.goBack();
    await summary(page).getByText('3 shipments on page 1, filtered.').waitFor();
    assert.equal(await page.getByLabel('Tracking number or reference').inputValue(), '');

    // The assigned drone shipment: its history, oldest first.
    const assigned = drones[0]!;
    await page.getByRole('link', { name: assigned.trackingNumber }).click();
    await page.getByRole('heading', { name: `Shipment ${assigned.trackingNumber}` }).waitFor();
    const history = page.getByRole('list', { name: 'History' }).getByRole('listitem');
    await history.nth(1).waitFor();
    const steps = await history.locator('.shipments-history-what').allInnerTexts();
    assert.deepEqual(steps, ['Created', 'Created → Assigned']);
    await history.nth(1).getByText(/driver sdrive/).waitFor();
    assert.equal(await page.getByTestId('recipient-name').count(), 1, 'a dispatcher sees the recipient');
    assert.deepEqual(await person.accessibility(), []);
    await shot(page, 'detail');
    person.assertClean();
    await person.context.close();
  });

  test('rotating the tracking link shows the new link once; the old path stops answering and the new one answers', async () => {
    const shipment = trucks[0]!;
    const track = async (path: string) => (await fetch(`${rampart.url}${path}`)).status;
    assert.equal(await track(shipment.trackingPath), 200, 'the link from the import works');
    const person = await dispatcherAt(`/console/shipments/${shipment.id}`);
    const { page } = person;
    await page.getByRole('heading', { name: `Shipment ${shipment.trackingNumber}` }).waitFor();
    await page.getByRole('button', { name: 'Rotate tracking link' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rotate the tracking link?' });
    await dialog.getByText('stops working now').waitFor();
    assert.deepEqual(await person.accessibility(), []);
    await dialog.getByRole('button', { name: 'Rotate tracking link' }).click();
    await page.getByRole('heading', { name: 'The new tracking link' }).waitFor();
    const link = new URL(await page.getByTestId('secret-value').innerText());
    assert.equal(link.origin, rampart.url);
    assert.match(link.pathname, /^\/t\/[A-Za-z0-9_-]+$/);
    assert.notEqual(link.pathname, shipment.trackingPath);
    assert.equal(await track(shipment.trackingPath), 404, 'the old link is gone');
    assert.equal(await track(link.pathname), 200, 'the new link answers');
    await page.getByText('The previous link no longer works').waitFor();
    assert.deepEqual(await person.accessibility(), []);
    await shot(page, 'rotated');
    await page.getByRole('button', { name: 'Done, I have copied it' }).click();
    assert.equal(await page.getByTestId('secret-value').count(), 0, 'shown once');
    person.assertClean();
    await person.context.close();
  });

  test('an import with one bad row lists its problem and writes nothing; the fixed file imports every row', async () => {
    const person = await dispatcherAt('/console/shipments');
    const { page } = person;
    await page.getByRole('link', { name: 'Import CSV' }).click();
    await page.getByRole('heading', { name: 'Import shipments' }).waitFor();
    assert.deepEqual(await person.accessibility(), []);
    const rows = [csvLine({ reference: 'IMP-1' }), csvLine({ reference: 'IMP-2', weight_kg: 'heavy' }), csvLine({ reference: 'IMP-3' })];
    const file = (name: string, lines: string[]) => ({ name, mimeType: 'text/csv', buffer: Buffer.from([CSV_HEADER, ...lines].join('\n')) });
    const before = await storedShipments();

    await page.getByLabel('CSV file').setInputFiles(file('orders.csv', rows));
    await page.getByText('orders.csv: 3 lines after the header.').waitFor();
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByRole('status').getByText('Nothing was imported.').waitFor();
    const problems = page.getByRole('table', { name: 'Problems in the file (row 1 is the header)' }).locator('tbody tr');
    assert.equal(await problems.count(), 1);
    assert.deepEqual((await problems.first().locator('td').allInnerTexts()).slice(0, 2), ['3', 'weight_kg']);
    assert.match(await problems.first().locator('td').nth(2).innerText(), /number/);
    assert.equal(await storedShipments(), before, 'nothing was written');
    assert.deepEqual(await person.accessibility(), []);
    await shot(page, 'import-refused');

    const fixed = [rows[0]!, csvLine({ reference: 'IMP-2', weight_kg: '4.5' }), rows[2]!];
    await page.getByLabel('CSV file').setInputFiles(file('orders-fixed.csv', fixed));
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByRole('status').getByText('Imported 3 shipments from orders-fixed.csv.').waitFor();
    assert.equal(await storedShipments(), before + 3);
    assert.equal(await page.getByRole('table', { name: 'Problems in the file (row 1 is the header)' }).count(), 0, 'the old problems are gone');
    const links = page.getByRole('table', { name: 'Shipments created by the import' }).getByRole('link');
    assert.equal(await links.count(), 3);
    assert.deepEqual(await page.getByRole('table', { name: 'Shipments created by the import' }).locator('tbody tr td:first-child').allInnerTexts(), ['2', '3', '4']);
    assert.deepEqual(await person.accessibility(), []);
    await shot(page, 'import-done');
    const second = (await links.nth(1).innerText()).trim();
    await links.nth(1).click();
    await page.getByRole('heading', { name: `Shipment ${second}` }).waitFor();
    await page.getByText('IMP-2', { exact: true }).waitFor();
    person.assertClean(/status of 422/);
    await person.context.close();
  });

  test('a new shipment is checked before it is sent, a refusal is shown with nothing written, and the created one shows its tracking link once', async () => {
    const person = await dispatcherAt('/console/shipments');
    const { page } = person;
    await page.getByRole('link', { name: 'New shipment' }).click();
    await page.getByRole('heading', { name: 'New shipment', level: 1 }).waitFor();
    assert.deepEqual(await person.accessibility(), []);
    const before = await storedShipments();
    const fill = async (lat: string) => {
      await page.getByLabel('Reference (optional)').fill('NEW-1');
      await page.getByLabel('Recipient name').fill('Ada Lovelace');
      await page.getByLabel('Address').fill('1 Main Street, Berlin');
      await page.getByLabel('Destination latitude').fill(lat);
      await page.getByLabel('Destination longitude').fill('13.41');
      await page.getByLabel('Weight (kg)').fill('2');
      await page.getByLabel('Window opens').fill('2026-07-01T09:00');
      await page.getByLabel('Window closes').fill('2026-07-01T12:00');
      await page.getByRole('button', { name: 'Create shipment' }).click();
    };

    // Not a latitude: caught in the form, beside its field, and nothing is sent.
    await fill('north-ish');
    await page.getByText('a latitude such as 52.52').waitFor();
    assert.equal(await page.getByRole('alert').count(), 0);
    assert.equal(await storedShipments(), before);

    // Outside the depot's service area: the server's refusal, in words, and nothing written.
    await fill('10');
    const refusal = page.getByRole('alert');
    await refusal.waitFor();
    assert.match(await refusal.innerText(), /service area/i);
    assert.equal(await storedShipments(), before, 'nothing was written');
    assert.equal(await page.getByLabel('Recipient name').inputValue(), 'Ada Lovelace', 'the form keeps what was typed');

    await fill('52.53');
    await page.getByRole('heading', { name: /^Shipment .+ created$/ }).waitFor();
    assert.equal(await storedShipments(), before + 1);
    const link = (await page.getByTestId('secret-value').innerText()).trim();
    assert.ok(link.startsWith(`${rampart.url}/`), `the tracking link is shown: ${link}`);
    assert.equal((await fetch(link)).status, 200, 'and it answers');
    assert.ok((await db().selectFrom('shipments').select('id').where('reference', '=', 'NEW-1').executeTakeFirst()) !== undefined);
    assert.equal(await page.getByLabel('Recipient name').inputValue(), '', 'the form is cleared for the next one');
    assert.deepEqual(await person.accessibility(), []);
    await page.getByRole('button', { name: 'Done, I have copied it' }).click();
    assert.equal(await page.getByRole('heading', { name: /^Shipment .+ created$/ }).count(), 0, 'the link is not shown again');
    person.assertClean(/status of 4\d\d/);
    await person.context.close();
  });

  test('a recipient name that is markup shows as text, and a delivered shipment shows its proof images and a valid receipt', async () => {
    const created = await admin.browser.post<{ shipment: { id: string; trackingNumber: string } }>('/api/v1/shipments', shipmentBody({}, { ...recipientFor(), name: XSS }));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { id, trackingNumber } = created.body.shipment;
    delivered = { id, trackingNumber };
    assert.equal((await admin.browser.request('PUT', `/api/v1/shipments/${id}/assignment`, { driverId: driver.accountId })).status, 200);
    assert.equal((await driver.browser.post(`/api/v1/shipments/${id}/status`, { status: 'out_for_delivery' })).status, 200);
    assert.equal((await driver.browser.post(`/api/v1/driver/shipments/${id}/proof`, submissionFor())).status, 201);

    const person = await dispatcherAt(`/console/shipments/${id}`);
    const { page } = person;
    await page.getByRole('heading', { name: `Shipment ${trackingNumber}` }).waitFor();
    const name = page.getByTestId('recipient-name');
    assert.equal(await name.textContent(), XSS);
    assert.equal(await name.locator('img').count(), 0);
    assert.equal(await page.locator('img[src="x"]').count(), 0, 'no element was made from the name');
    assert.equal(await page.getByRole('listitem').filter({ hasText: 'Out for delivery → Delivered' }).count(), 1);

    await page.getByRole('button', { name: 'Show proof of delivery' }).click();
    await page.getByRole('status').getByText(/Valid receipt: signed by this Rampart server/).waitFor();
    const signature = page.getByRole('img', { name: 'Signature of the proof of delivery' });
    await signature.waitFor();
    assert.match((await signature.getAttribute('src')) ?? '', /^blob:/, 'shown from the fetched bytes, no token in an address');
    // Every image decoded (read in the page until so; page code as text, this file has no DOM types).
    const decoded = async () => (await page.evaluate("[...document.querySelectorAll('.shipments-proof-images img')].every((i) => i.complete && i.naturalWidth > 0)")) === true;
    const giveUp = performance.now() + 10_000;
    while (!(await decoded())) assert.ok(performance.now() < giveUp, 'the proof images never decoded');
    assert.equal(await page.locator('img[src="x"]').count(), 0);
    assert.deepEqual(await person.accessibility(), []);
    await shot(page, 'proof');
    person.assertClean();
    await person.context.close();
  });

  test('an auditor reads shipments and the proof but is offered no changes and no recipient data', async () => {
    const person = await personAt('/console/shipments', auditor);
    const { page } = person;
    await summary(page).getByText(/^25 shipments on page 1\.$/).waitFor();
    assert.equal(await page.getByRole('link', { name: 'New shipment' }).count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Import CSV' }).count(), 0);
    await page.goto(`${rampart.url}/console/shipments/${delivered.id}`);
    await page.getByRole('heading', { name: `Shipment ${delivered.trackingNumber}` }).waitFor();
    await page.getByText('Your role does not see recipient data.').waitFor();
    assert.equal(await page.getByText(XSS).count(), 0);
    assert.equal(await page.getByRole('heading', { name: 'Actions' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Rotate tracking link' }).count(), 0);
    await page.getByRole('button', { name: 'Show proof of delivery' }).click();
    await page.getByRole('img', { name: 'Signature of the proof of delivery' }).waitFor();
    assert.deepEqual(await person.accessibility(), []);
    await shot(page, 'auditor');
    person.assertClean();
    await person.context.close();
  });
});
