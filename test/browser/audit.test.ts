import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { AuditCheckpointer } from '../../src/audit/checkpoint.ts';
import { ManualClock } from '../../src/kernel/clock.ts';
import { createMemoryLogger } from '../../src/kernel/logger.ts';
import { appendEvents, tamperField } from '../support/audit.ts';
import { chromiumSkipReason, launchChromium, type Person, type TestBrowser } from '../support/chromium.ts';
import { shipmentBody, squareArea } from '../support/delivery.ts';
import { createSignedInUser, signInAdmin, startTestRampart, type SignedIn, type TestRampart } from '../support/identity.ts';
import { changeCharAt, submissionFor } from '../support/proofs.ts';

// The auditor's screens in Chromium: the trail (filters in the address,
// pages, details as text), verifying the chain before and after an entry is
// altered in the database, the export download, and checking a real delivery
// receipt and an altered one.

const skip = chromiumSkipReason();
const SHOTS = '/tmp/shots';
const XSS = '<img src=x onerror=alert(1)>';

describe('audit screens in Chromium', { skip }, () => {
  let rampart: TestRampart;
  let chromium: TestBrowser;
  let auditor: SignedIn;
  let person: Person;
  let receipt: { receiptId: string; receipt: string; trackingNumber: string };
  const db = () => rampart.running.database.db;
  const shot = (name: string) => person.page.screenshot({ path: `${SHOTS}/audit-${name}.png`, fullPage: true });
  const storedEntries = async () => Number((await db().selectFrom('audit_entries').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow()).n);

  /** A delivered shipment's receipt, made as the driver app makes one. */
  async function deliveredReceipt(admin: SignedIn): Promise<{ receiptId: string; receipt: string; trackingNumber: string }> {
    const driver = await createSignedInUser(rampart, admin, 'drew', 'driver');
    assert.equal((await admin.browser.post('/api/v1/depots', { id: 'north', name: 'North', location: { lat: 52.52, lon: 13.405 }, serviceArea: squareArea(52.52, 13.405) })).status, 201);
    assert.equal((await admin.browser.request('PUT', `/api/v1/drivers/${driver.accountId}`, { homeDepotId: 'north' })).status, 200);
    const created = await admin.browser.post<{ shipment: { id: string; trackingNumber: string } }>('/api/v1/shipments', shipmentBody());
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { id, trackingNumber } = created.body.shipment;
    assert.equal((await admin.browser.request('PUT', `/api/v1/shipments/${id}/assignment`, { driverId: driver.accountId })).status, 200);
    assert.equal((await driver.browser.post(`/api/v1/shipments/${id}/status`, { status: 'out_for_delivery' })).status, 200);
    const proof = await driver.browser.post<{ receiptId: string; receipt: string }>(`/api/v1/driver/shipments/${id}/proof`, submissionFor());
    assert.equal(proof.status, 201, JSON.stringify(proof.body));
    return { receiptId: proof.body.receiptId, receipt: proof.body.receipt, trackingNumber };
  }

  /** Signs in through the page, password then the authenticator code, and comes back to `path`. */
  async function signInThroughPage(user: SignedIn, path: string): Promise<Person> {
    const signedIn = await chromium.person();
    const { page } = signedIn;
    await page.goto(`${rampart.url}${path}`);
    await page.getByRole('heading', { name: 'Sign in to Rampart' }).waitFor();
    await page.getByLabel('Username').fill(user.username);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Confirm it is you' }).waitFor();
    rampart.clock.advance(30_000);
    await page.getByLabel('Six-digit code from your authenticator app').fill(user.code());
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('navigation', { name: 'Console' }).waitFor();
    // The session probe before signing in is refused, as it should be; nothing after may be.
    assert.deepEqual(signedIn.problems.filter((p) => !/status of 401/.test(p)), []);
    signedIn.problems.length = 0;
    return signedIn;
  }

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    rampart = await startTestRampart();
    chromium = await launchChromium();
    const admin = await signInAdmin(rampart);
    auditor = await createSignedInUser(rampart, admin, 'audrey', 'auditor');
    // A name that would run script if it were ever rendered as markup; depot.create records it in the entry's details.
    assert.equal((await admin.browser.post('/api/v1/depots', { id: 'hostile', name: XSS, location: { lat: 48.137, lon: 11.575 } })).status, 201);
    receipt = await deliveredReceipt(admin);
    // Enough entries for more than one page of the trail.
    await appendEvents(rampart.running.database, new ManualClock(rampart.clock.now().toISOString()), 60);
    person = await signInThroughPage(auditor, '/console/audit');
  });
  after(async () => {
    await person.context.close();
    await chromium.close();
    await rampart.stop();
  });

  test('the auditor sees the audit screens, the shipments list their shipment.read allows, and their account', async () => {
    const { page } = person;
    await page.getByRole('heading', { name: 'Audit trail', level: 1 }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Console' });
    assert.deepEqual(await nav.getByRole('heading').allInnerTexts().then((h) => h.map((t) => t.toLowerCase())), ['operations', 'audit', 'account']);
    assert.deepEqual(await nav.getByRole('link').allInnerTexts(), ['Shipments', 'Audit trail', 'Verify chain', 'Export trail', 'Receipts', 'My account']);
    assert.equal(await nav.getByRole('link', { name: 'Audit trail' }).getAttribute('aria-current'), 'page');
    person.assertClean();
  });

  test('the trail pages with its cursors, and a filter by action sits in the address and shows only matching rows', async () => {
    const { page } = person;
    await page.getByText(/50 entries on page 1, newest first/).waitFor();
    const rows = page.getByRole('table').locator('tbody tr');
    const seqs = async () => (await rows.locator('td:first-child').allInnerTexts()).map(Number);
    const first = await seqs();
    assert.equal(first.length, 50);
    assert.deepEqual(first, [...first].sort((a, b) => b - a), 'newest first');
    assert.equal(first[0], await storedEntries());
    assert.deepEqual(await person.accessibility(), []);
    await shot('trail');

    await page.getByRole('button', { name: 'Older entries' }).click();
    await page.getByText(/on page 2, newest first/).waitFor();
    const second = await seqs();
    assert.equal(second[0], (first.at(-1) ?? 0) - 1, 'the next page starts right after the first');
    await page.getByRole('button', { name: 'Newer entries' }).click();
    await page.getByText(/50 entries on page 1/).waitFor();
    assert.deepEqual(await seqs(), first);

    await page.getByLabel('Action').fill('depot.create');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/\/console\/audit\?action=depot\.create$/);
    await page.getByText(/2 entries on page 1, newest first, filtered/).waitFor();
    assert.deepEqual(await rows.locator('td:nth-child(4)').allInnerTexts(), ['depot.create', 'depot.create']);
    // The link carries the filter: opened afresh it shows the same rows.
    await page.reload();
    await page.getByText(/2 entries on page 1, newest first, filtered/).waitFor();
    assert.equal(await page.getByLabel('Action').inputValue(), 'depot.create');

    const hostile = rows.filter({ hasText: 'depot hostile' });
    await hostile.getByText(/fields of entry/).click();
    const details = hostile.locator('pre');
    await details.waitFor();
    assert.match(await details.innerText(), /"name": "<img src=x onerror=alert\(1\)>"/, 'the markup shows as text');
    assert.equal(await page.locator('main img').count(), 0, 'no element was made from it');
    assert.deepEqual(await person.accessibility(), []);
    await shot('trail-filtered');

    await hostile.getByRole('link').first().click();
    await page.getByRole('heading', { name: /^Audit entry \d+$/ }).waitFor();
    await page.getByText(XSS).first().waitFor();
    assert.equal(await page.locator('main img').count(), 0);
    assert.deepEqual(await person.accessibility(), []);
    await shot('entry');
    person.assertClean();
  });

  test('verify reports the chain intact, then names the entry altered in the database', async () => {
    const { page } = person;
    const { database, keyring } = rampart.running;
    const checkpoint = await new AuditCheckpointer({ database, keyring, clock: rampart.clock, intervalSeconds: 3600, everyEntries: 1000, logger: createMemoryLogger('warn').logger }).checkpointNow();
    assert.ok(checkpoint !== undefined);
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Verify chain' }).click();
    await page.getByRole('heading', { name: 'Verify the audit chain' }).waitFor();
    assert.deepEqual(await person.accessibility(), []);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    const status = page.getByRole('status');
    await status.getByText('Chain intact:').waitFor();
    const entries = await storedEntries();
    assert.match(await status.innerText(), new RegExp(`Chain intact: ${entries.toLocaleString('en-GB')} entries, last checkpoint at entry ${checkpoint.seq.toLocaleString('en-GB')}, signed `));
    assert.deepEqual(await person.accessibility(), []);
    await shot('verify');

    const altered = Math.floor(entries / 2);
    await tamperField(db(), altered);
    await page.getByRole('button', { name: 'Verify again' }).click();
    await status.getByText(`Entry ${altered} was modified.`).waitFor();
    assert.equal(await status.getByText('Chain intact:').count(), 0);
    assert.equal(await page.getByRole('cell', { name: `entry ${altered} no longer matches its hash: its content was changed` }).count(), 1);
    assert.deepEqual(await person.accessibility(), []);
    await shot('verify-altered');

    await status.getByRole('link', { name: `Entry ${altered}` }).click();
    await page.getByRole('heading', { name: `Audit entry ${altered}` }).waitFor();
    await page.getByText('"n": -1').waitFor();
    person.assertClean();
  });

  test('the export downloads the JSON Lines file, with nothing but a date in its address', async () => {
    const { page } = person;
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Export trail' }).click();
    await page.getByRole('heading', { name: 'Export the audit trail' }).waitFor();
    assert.deepEqual(await person.accessibility(), []);
    const link = page.getByRole('link', { name: 'Download the whole trail' });
    assert.equal(await link.getAttribute('href'), '/api/v1/audit/export');
    assert.notEqual(await link.getAttribute('download'), null);
    await shot('export');
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.match(download.suggestedFilename(), /^rampart-audit-\d{4}-\d{2}-\d{2}\.jsonl$/);
    const lines = readFileSync(await download.path(), 'utf8').trimEnd().split('\n');
    const header = JSON.parse(lines[0] ?? '{}') as { type: string; to_seq: number; jwks: { keys: unknown[] } };
    assert.equal(header.type, 'rampart.audit.export');
    assert.ok(header.jwks.keys.length >= 1, 'the audit public keys travel with it');
    assert.equal(lines.filter((l) => l.startsWith('{"type":"entry"')).length, await storedEntries());
    // Checkpoints are signed as the trail grows and with time: the export carries every one up to its end.
    const signed = Number((await db().selectFrom('audit_checkpoints').select((eb) => eb.fn.countAll<number | string>().as('n')).where('seq', '<=', header.to_seq).executeTakeFirstOrThrow()).n);
    assert.ok(signed >= 1, 'at least one checkpoint was signed');
    assert.equal(lines.filter((l) => l.startsWith('{"type":"checkpoint"')).length, signed, 'with the signed checkpoints');

    await page.getByLabel('Only entries from this day on (UTC)').fill('2026-01-31');
    assert.equal(await page.getByRole('link', { name: 'Download entries from this day on' }).getAttribute('href'), '/api/v1/audit/export?since=2026-01-31T00%3A00%3A00.000Z');
    person.assertClean();
  });

  test('a real receipt checks as valid with the facts it certifies; an altered one as invalid', async () => {
    const { page } = person;
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Receipts' }).click();
    await page.getByRole('heading', { name: 'Check a delivery receipt' }).waitFor();
    assert.deepEqual(await person.accessibility(), []);
    const field = page.getByLabel('Receipt or receipt id');
    const status = page.getByRole('status');

    await field.fill(receipt.receipt);
    rampart.clock.advance(2_100);
    await page.getByRole('button', { name: 'Check' }).click();
    await status.getByText('Valid receipt: signed by this Rampart server').waitFor();
    const facts = await page.locator('main').innerText();
    assert.match(facts, new RegExp(`Receipt id\\s+${receipt.receiptId}`));
    assert.match(facts, /Shipment status\s+delivered/);
    assert.match(facts, new RegExp(`Tracking number\\s+${receipt.trackingNumber}`));
    assert.match(facts, /Location\s+verified/);
    assert.deepEqual(await person.accessibility(), []);
    await shot('receipts');

    const signatureAt = receipt.receipt.lastIndexOf('.') + 10;
    await field.fill(JSON.stringify({ receiptId: receipt.receiptId, receipt: changeCharAt(receipt.receipt, signatureAt) }));
    rampart.clock.advance(2_100);
    await page.getByRole('button', { name: 'Check' }).click();
    await status.getByText('Invalid receipt: it was not signed by this server').waitFor();
    assert.match(await status.innerText(), /not a genuine receipt of this server/);
    assert.equal(await page.getByRole('heading', { name: 'What the receipt certifies' }).count(), 0, 'nothing of an unverified receipt is shown as certified');
    assert.deepEqual(await person.accessibility(), []);
    await shot('receipts-invalid');

    await field.fill(receipt.receiptId);
    rampart.clock.advance(2_100);
    await page.getByRole('button', { name: 'Check' }).click();
    await status.getByText('No receipt was checked').waitFor();

    await field.fill('not a receipt at all');
    await page.getByRole('button', { name: 'Check' }).click();
    await page.getByText(/neither a receipt nor a receipt id/).waitFor();
    assert.equal(await field.getAttribute('aria-invalid'), 'true');
    person.assertClean();
  });
});
