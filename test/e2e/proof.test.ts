import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { verifyProofBundle, verifyReceipt } from '../../src/delivery/proof/core/index.ts';
import { jpegImage, pngClaiming, pngImage } from '../support/proof-factories.ts';
import { defaultProofLimits } from '../support/config.ts';
import { rawRequest, shipmentBody, squareArea } from '../support/delivery.ts';
import { auditEntries, createSignedInUser, freshSignIn, signInAdmin, startTestRampart, type Browser, type SignedIn, type TestRampart } from '../support/identity.ts';
import { changeCharAt, proofSnapshot, submissionFor } from '../support/proofs.ts';

// Proof of delivery end to end: the driver app submits (idempotently), the
// console reads, downloads, exports and shreds, and anyone holding a receipt
// checks it at /r/{receiptId}. Another driver's shipment is as missing as an
// unknown one; refusals store nothing.

type Submitted = { proofId: string; receiptId: string; receipt: string; locationVerified: boolean; contentHash: string } & Record<string, unknown>;

describe('proof of delivery', () => {
  let rampart: TestRampart;
  let admin: SignedIn;
  let dispatcher: SignedIn;
  let driverA: SignedIn;
  let driverB: SignedIn;
  let auditor: SignedIn;
  let adminBrowser: Browser;
  let driverBrowser: Browser;
  const db = () => rampart.running.database.db;
  const snapshot = () => proofSnapshot(db());

  const fresh = (user: SignedIn) => freshSignIn(rampart, user);

  /** A shipment of driver A's, out for delivery. */
  async function outForDelivery(overrides: Record<string, unknown> = {}): Promise<{ id: string; trackingNumber: string }> {
    const created = await adminBrowser.post<{ shipment: { id: string; trackingNumber: string } }>('/api/v1/shipments', shipmentBody(overrides));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { id, trackingNumber } = created.body.shipment;
    assert.equal((await adminBrowser.request('PUT', `/api/v1/shipments/${id}/assignment`, { driverId: driverA.accountId })).status, 200);
    assert.equal((await driverBrowser.post(`/api/v1/shipments/${id}/status`, { status: 'out_for_delivery' })).status, 200);
    return { id, trackingNumber };
  }

  const submit = (browser: Browser, shipmentId: string, body: unknown) => browser.post<Submitted>(`/api/v1/driver/shipments/${shipmentId}/proof`, body);
  const statusOf = async (id: string) => (await adminBrowser.get<{ status: string }>(`/api/v1/shipments/${id}`)).body.status;

  /** The public receipt page; the clock moves so the per-source limit (30 a minute) is never reached. */
  async function receiptPage(receiptId: string, receipt?: string): Promise<{ status: number; body: Record<string, unknown> }> {
    rampart.clock.advance(2_100);
    if (receipt === undefined) {
      const response = await fetch(`${rampart.url}/r/${receiptId}`);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    }
    const response = await fetch(`${rampart.url}/r/${receiptId}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: receipt });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  before(async () => {
    rampart = await startTestRampart();
    admin = await signInAdmin(rampart);
    dispatcher = await createSignedInUser(rampart, admin, 'dora', 'dispatcher');
    driverA = await createSignedInUser(rampart, admin, 'drivera', 'driver');
    driverB = await createSignedInUser(rampart, admin, 'driverb', 'driver');
    auditor = await createSignedInUser(rampart, admin, 'otto', 'auditor');
    adminBrowser = admin.browser;
    assert.equal((await adminBrowser.post('/api/v1/depots', { id: 'north', name: 'North', location: { lat: 52.52, lon: 13.405 }, serviceArea: squareArea(52.52, 13.405) })).status, 201);
    assert.equal((await adminBrowser.post('/api/v1/depots', { id: 'south', name: 'South', location: { lat: 48.137, lon: 11.575 } })).status, 201);
    for (const driver of [driverA, driverB]) assert.equal((await adminBrowser.request('PUT', `/api/v1/drivers/${driver.accountId}`, { homeDepotId: 'north' })).status, 200);
    assert.equal((await adminBrowser.request('PUT', `/api/v1/users/${dispatcher.accountId}/depots`, { depots: ['south'] })).status, 200);
    driverBrowser = driverA.browser;
  });
  after(() => rampart.stop());

  test('a driver delivers with proof: 201 with the receipt, the shipment delivered, personal data and images stored encrypted', async () => {
    const shipment = await outForDelivery();
    const body = submissionFor();
    const response = await submit(driverBrowser, shipment.id, body);
    assert.equal(response.status, 201, JSON.stringify(response.body));
    assert.deepEqual(Object.keys(response.body).sort(), ['contentHash', 'locationVerified', 'proofId', 'receipt', 'receiptId']);
    assert.equal(response.body.locationVerified, true);
    assert.equal(await statusOf(shipment.id), 'delivered');

    const row = await db().selectFrom('proofs').selectAll().where('id', '=', response.body.proofId).executeTakeFirstOrThrow();
    const images = await db().selectFrom('proof_images').selectAll().where('proof_id', '=', row.id).execute();
    assert.equal(images.length, 2);
    const raw = JSON.stringify([row, images]);
    assert.ok(!raw.includes(body.signerName));
    for (const image of images) {
      assert.match(image.bytes, /^rk1\./);
      assert.ok(!image.bytes.includes(body.signature.png.slice(8, 48)) && !image.bytes.includes(body.photo?.data.slice(8, 48) ?? '-'), 'not the image bytes');
    }
    const audit = (await auditEntries(rampart, 'pod.create')).filter((e) => e.target_id === row.id);
    assert.equal(audit.length, 1);
    assert.ok(!audit[0]?.details.includes(body.signerName));
  });

  test('an identical retry answers 200 with the original; racing identical submissions store one proof; another submission under the key is 409', async () => {
    const shipment = await outForDelivery();
    const body = submissionFor();
    const first = await submit(driverBrowser, shipment.id, body);
    assert.equal(first.status, 201);
    const before = await snapshot();
    const retry = await submit(driverBrowser, shipment.id, body);
    assert.equal(retry.status, 200);
    assert.deepEqual(retry.body, first.body);
    assert.equal(await snapshot(), before, 'no second row, no second audit entry');
    const conflict = await submit(driverBrowser, shipment.id, { ...body, signerName: 'Not The Same' });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body['code'], 'proof.idempotency_conflict');
    assert.equal(await snapshot(), before);

    const racing = await outForDelivery();
    const same = submissionFor();
    const results = await Promise.all([submit(driverBrowser, racing.id, same), submit(driverBrowser, racing.id, same), submit(driverBrowser, racing.id, same)]);
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 200, 201]);
    assert.equal(new Set(results.map((r) => r.body.receipt)).size, 1);
    assert.equal((await db().selectFrom('proofs').select('id').where('shipment_id', '=', racing.id).execute()).length, 1);
  });

  test('a fix far from the destination is kept and flagged location_verified false', async () => {
    const shipment = await outForDelivery();
    const response = await submit(driverBrowser, shipment.id, submissionFor({}, 5_000));
    assert.equal(response.status, 201);
    assert.equal(response.body.locationVerified, false);
    const page = await receiptPage(response.body.receiptId);
    assert.equal(page.body['locationVerified'], false);
  });

  test('refusals store nothing: not an image, another driver\'s or a missing shipment (404 alike), not out for delivery (409), bad input', async () => {
    const shipment = await outForDelivery();
    const before = await snapshot();
    const driverBBrowser = await fresh(driverB);
    const afterSignIn = await snapshot();
    const notImage = await submit(driverBrowser, shipment.id, submissionFor({ photo: { contentType: 'image/jpeg', data: Buffer.from('GIF89a not really a photo').toString('base64') } }));
    assert.equal(notImage.status, 400);
    assert.equal(notImage.body['code'], 'proof.image_invalid');
    assert.match(String(notImage.body['detail']), /photo: not an image/);
    const declaredWrong = await submit(driverBrowser, shipment.id, submissionFor({ photo: { contentType: 'image/jpeg', data: pngImage().toString('base64') } }));
    assert.equal(declaredWrong.body['code'], 'proof.image_invalid');

    const otherDriver = await submit(driverBBrowser, shipment.id, submissionFor());
    const missing = await submit(driverBrowser, 'shp_AAAAAAAAAAAAAAAAAAAAAA', submissionFor());
    assert.equal(otherDriver.status, 404);
    assert.equal(await snapshot(), afterSignIn, 'nothing stored, nothing audited');
    assert.notEqual(before, '');
    assert.deepEqual([otherDriver.status, otherDriver.body['code'], otherDriver.body['title']], [missing.status, missing.body['code'], missing.body['title']]);

    const assigned = (await adminBrowser.post<{ shipment: { id: string } }>('/api/v1/shipments', shipmentBody())).body.shipment.id;
    assert.equal((await adminBrowser.request('PUT', `/api/v1/shipments/${assigned}/assignment`, { driverId: driverA.accountId })).status, 200);
    const beforeAssigned = await snapshot();
    assert.notEqual(beforeAssigned, before, 'the assigned shipment was created in between');
    const early = await submit(driverBrowser, assigned, submissionFor());
    assert.equal(early.status, 409);
    assert.equal(early.body['code'], 'proof.not_out_for_delivery');
    assert.equal(await snapshot(), beforeAssigned);

    for (const body of [{}, { ...submissionFor(), extra: 1 }, { ...submissionFor(), intent: { statement: 'ok', accepted: false } }, { ...submissionFor(), gps: { lat: 91, lon: 0, accuracyM: 1 } }, { ...submissionFor(), idempotencyKey: 'short' }]) {
      const refused = await submit(driverBrowser, shipment.id, body);
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
    }
    const tooMany = await submit(driverBrowser, shipment.id, submissionFor({ photo: { contentType: 'image/png', data: pngClaiming(8000, 6000).toString('base64') } }));
    assert.equal(tooMany.status, 413);
    assert.equal(tooMany.body['code'], 'proof.image_too_large');
    assert.equal((await submit(driverBrowser, 'not-an-id', submissionFor())).status, 400);
    assert.equal((await rawRequest(driverBrowser, 'POST', `/api/v1/driver/shipments/${shipment.id}/proof`, 'x'.repeat(defaultProofLimits().maxPhotoBytes * 2), 'application/json')).status, 413);
    assert.equal(await snapshot(), beforeAssigned, 'nothing stored, nothing audited');
    assert.equal(await statusOf(shipment.id), 'out_for_delivery');
  });

  test('a shipment that requires a PIN: issued once by a dispatcher, a wrong PIN is refused, the right one verifies', async () => {
    const shipment = await outForDelivery({ requiredProof: ['signature', 'pin'] });
    const issued = await adminBrowser.post<{ pin: string }>(`/api/v1/shipments/${shipment.id}/pin`);
    assert.equal(issued.status, 200);
    assert.match(issued.body.pin, /^[0-9]{6}$/);
    const stored = await db().selectFrom('shipments').select('delivery_pin').where('id', '=', shipment.id).executeTakeFirstOrThrow();
    assert.match(stored.delivery_pin ?? '', /^rk1\./);
    assert.equal((await (await fresh(dispatcher)).post(`/api/v1/shipments/${shipment.id}/pin`)).status, 404, 'another depot\'s shipment');
    assert.equal((await driverBrowser.post(`/api/v1/shipments/${shipment.id}/pin`)).status, 403);

    const missing = await submit(driverBrowser, shipment.id, submissionFor());
    assert.equal(missing.body['code'], 'proof.requirement_missing');
    const wrong = await submit(driverBrowser, shipment.id, submissionFor({ pin: issued.body.pin === '111111' ? '222222' : '111111' }));
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body['code'], 'proof.pin_mismatch');
    assert.equal(await statusOf(shipment.id), 'out_for_delivery');
    const right = await submit(driverBrowser, shipment.id, submissionFor({ pin: issued.body.pin }));
    assert.equal(right.status, 201);
    const keys = await (await fetch(`${rampart.url}/.well-known/rampart-receipt-keys.json`)).json();
    const verified = await verifyReceipt(right.body.receipt, keys);
    assert.ok(verified.ok);
    assert.equal(verified.claims.pin_verified, true);
    assert.ok(!JSON.stringify(await auditEntries(rampart, 'shipment.pin_issue')).includes(issued.body.pin), 'the PIN is not in the audit trail');
  });

  test('reading: facts and signer for administrators and auditors (audited); images as attachments; drivers refused', async () => {
    const shipment = await outForDelivery();
    const body = submissionFor({ photo: { contentType: 'image/jpeg', data: jpegImage(20, 10, 4).toString('base64') } });
    const { proofId } = (await submit(driverBrowser, shipment.id, body)).body;
    const auditorBrowser = await fresh(auditor);
    const read = await auditorBrowser.get<{ signer: { name: string }; personalData: string; facts: { tracking_number: string }; images: Array<{ role: string }> }>(`/api/v1/shipments/${shipment.id}/proof`);
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assert.equal(read.body.signer.name, body.signerName);
    assert.equal(read.body.facts.tracking_number, shipment.trackingNumber);
    assert.deepEqual(read.body.images.map((i) => i.role).sort(), ['photo', 'signature']);
    assert.equal((await auditEntries(rampart, 'pod.read')).filter((e) => e.target_id === proofId && e.actor_id === auditor.accountId).length, 1);

    const photo = await fetch(`${rampart.url}/api/v1/proofs/${proofId}/images/photo`, { headers: { cookie: auditorBrowser.cookie ?? '' } });
    assert.equal(photo.status, 200);
    assert.equal(photo.headers.get('content-type'), 'image/jpeg');
    assert.equal(photo.headers.get('x-content-type-options'), 'nosniff');
    assert.match(photo.headers.get('content-disposition') ?? '', /^attachment; filename="pod_[A-Za-z0-9_-]+-photo\.jpg"$/);
    assert.deepEqual(Buffer.from(await photo.arrayBuffer()), jpegImage(20, 10, 4));
    assert.equal((await auditEntries(rampart, 'pod.image_read')).filter((e) => e.target_id === proofId).length, 1);

    assert.equal((await driverBrowser.get(`/api/v1/shipments/${shipment.id}/proof`)).status, 403);
    const scoped = await fresh(dispatcher);
    assert.equal((await scoped.get(`/api/v1/shipments/${shipment.id}/proof`)).status, 404, 'another depot: not found');
    assert.equal((await scoped.get(`/api/v1/proofs/${proofId}/images/photo`)).status, 404);
    assert.equal((await adminBrowser.get(`/api/v1/shipments/${(await outForDelivery()).id}/proof`)).body['code'], 'proof.not_found');
  });

  test('export needs a recent second factor and yields a bundle that verifies offline', async () => {
    const shipment = await outForDelivery();
    const { proofId } = (await submit(driverBrowser, shipment.id, submissionFor())).body;
    const auditorBrowser = await fresh(auditor);
    rampart.clock.advance(6 * 60_000);
    const stale = await auditorBrowser.post(`/api/v1/proofs/${proofId}/export`);
    assert.equal(stale.status, 401, JSON.stringify(stale.body));
    assert.equal(stale.body['code'], 'auth.step_up_required');
    const recent = await fresh(auditor);
    const exported = await recent.post(`/api/v1/proofs/${proofId}/export`);
    assert.equal(exported.status, 200);
    assert.match(exported.headers.get('content-disposition') ?? '', /attachment/);
    const keys = await (await fetch(`${rampart.url}/.well-known/rampart-receipt-keys.json`)).json();
    const verified = await verifyProofBundle(exported.body, { jwks: keys });
    assert.ok(verified.ok, JSON.stringify(verified));
    assert.equal(verified.personalData, 'present');
    assert.deepEqual(verified.images, { signature: 'matches', photo: 'matches' });
    assert.equal((await auditEntries(rampart, 'pod.export')).filter((e) => e.target_id === proofId).length, 1);
  });

  test('/r: status without a receipt; genuine and unaltered with it; any changed character, or a changed stored record, fails', async () => {
    const shipment = await outForDelivery();
    const { receiptId, receipt, proofId } = (await submit(driverBrowser, shipment.id, submissionFor())).body;
    const plain = await receiptPage(receiptId);
    assert.equal(plain.status, 200);
    assert.deepEqual(Object.keys(plain.body).sort(), ['deliveredAt', 'locationVerified', 'receiptId', 'shipmentStatus']);
    assert.equal(plain.body['shipmentStatus'], 'delivered');
    rampart.clock.advance(2_100);
    const viaQuery = await fetch(`${rampart.url}/r/${receiptId}?receipt=${receipt}`);
    assert.deepEqual(((await viaQuery.json()) as { verification: unknown }).verification, { genuine: true, unaltered: true });
    assert.deepEqual((await receiptPage(receiptId, `${receipt}\n`)).body['verification'], { genuine: true, unaltered: true });

    const positions = new Set<number>([0, receipt.length - 1, receipt.indexOf('.'), receipt.lastIndexOf('.'), receipt.lastIndexOf('.') + 1]);
    for (let i = 0; i < receipt.length; i += Math.ceil(receipt.length / 40)) positions.add(i);
    for (const i of positions) {
      const page = await receiptPage(receiptId, changeCharAt(receipt, i));
      assert.equal(page.status, 200);
      assert.equal((page.body['verification'] as { unaltered: boolean }).unaltered, false, `character ${i}`);
    }

    const row = await db().selectFrom('proofs').select(['facts', 'content_hash']).where('id', '=', proofId).executeTakeFirstOrThrow();
    const at = row.facts.indexOf('"distance_m":') + '"distance_m":'.length;
    await db().updateTable('proofs').set({ facts: row.facts.slice(0, at) + (row.facts.charAt(at) === '9' ? '8' : '9') + row.facts.slice(at + 1) }).where('id', '=', proofId).execute();
    assert.deepEqual((await receiptPage(receiptId, receipt)).body['verification'], { genuine: true, unaltered: false, problem: 'the stored record does not match the receipt (fact mismatch)' });
    await db().updateTable('proofs').set({ facts: row.facts, content_hash: `${row.content_hash.slice(0, -1)}${row.content_hash.endsWith('0') ? '1' : '0'}` }).where('id', '=', proofId).execute();
    assert.equal(((await receiptPage(receiptId, receipt)).body['verification'] as { unaltered: boolean }).unaltered, false);
    await db().updateTable('proofs').set({ content_hash: row.content_hash }).where('id', '=', proofId).execute();

    for (const id of ['rcpt_AAAAAAAAAAAAAAAAAAAAAA', 'nothing', receiptId.toLowerCase()]) {
      const unknown = await receiptPage(id);
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body['code'], 'route.not_found');
    }
    assert.equal((await receiptPage(receiptId, 'x'.repeat(20_000))).status, 413);

    const keys = (await (await fetch(`${rampart.url}/.well-known/rampart-receipt-keys.json`)).json()) as { keys: Array<{ kid: string }> };
    const receiptKids = (await db().selectFrom('signing_keys').select('kid').where('purpose', '=', 'receipt').execute()).map((k) => k.kid);
    assert.deepEqual(keys.keys.map((k) => k.kid).sort(), receiptKids.sort(), 'receipt keys only');

    for (let i = 0; i < 31; i++) await fetch(`${rampart.url}/r/${receiptId}`);
    const limited = await fetch(`${rampart.url}/r/${receiptId}`);
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    rampart.clock.advance(61_000);
  });

  test('shredding (administrator, step-up): images gone, the read API says so, /r still genuine; bad ids change nothing', async () => {
    const shipment = await outForDelivery();
    const { proofId, receiptId, receipt } = (await submit(driverBrowser, shipment.id, submissionFor())).body;
    const auditorBrowser = await fresh(auditor);
    const browser = await fresh(admin);
    const before = await snapshot();
    assert.equal((await auditorBrowser.post(`/api/v1/proofs/${proofId}/shred`)).status, 403);
    for (const [path, status] of [[`/api/v1/proofs/pod_AAAAAAAAAAAAAAAAAAAAAA/shred`, 404], ['/api/v1/proofs/nope/shred', 400], [`/api/v1/proofs/${proofId}/export`, 403], [`/api/v1/shipments/shp_AAAAAAAAAAAAAAAAAAAAAA/pin`, 404]] as const) {
      assert.equal((await browser.post(path)).status, status, path);
    }
    assert.equal((await browser.get(`/api/v1/proofs/${proofId}/images/thumbnail`)).status, 400);
    assert.equal(await snapshot(), before, 'refused requests change nothing');

    const shredded = await browser.post(`/api/v1/proofs/${proofId}/shred`);
    assert.deepEqual([shredded.status, shredded.body], [200, { proofId, shredded: true }]);
    assert.equal((await db().selectFrom('proof_images').select('id').where('proof_id', '=', proofId).execute()).length, 0);
    const read = await browser.get<{ personalData: string; signer: unknown; images: unknown[] }>(`/api/v1/shipments/${shipment.id}/proof`);
    assert.deepEqual([read.body.personalData, read.body.signer, read.body.images], ['shredded', null, []]);
    const image = await browser.get(`/api/v1/proofs/${proofId}/images/signature`);
    assert.equal(image.status, 410);
    assert.equal(image.body['code'], 'proof.personal_data_shredded');
    assert.deepEqual((await receiptPage(receiptId, receipt)).body['verification'], { genuine: true, unaltered: true });
    assert.deepEqual((await auditEntries(rampart, 'pod.shred')).filter((e) => e.target_id === proofId).map((e) => (JSON.parse(e.details) as { reason: string }).reason), ['erasure_request']);
  });
});
