import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ENCRYPTED_COLUMNS } from '../../src/crypto/encrypted-columns.ts';
import { fieldKeyPrefix, Keyring } from '../../src/crypto/keyring.ts';
import { rotateKeys } from '../../src/crypto/rotate.ts';
import { createDelivery, type Delivery } from '../../src/delivery/delivery.ts';
import { receiptJwks, verifyProofBundle, verifyReceipt, verifyRecordAgainstReceipt } from '../../src/delivery/proof/core/index.ts';
import { pngImage } from '../support/proof-factories.ts';
import { MAX_PIN_FAILURES } from '../../src/delivery/proof/intake.ts';
import { loadProof, loadProofForShipment, storedRecord } from '../../src/delivery/proof/proofs.store.ts';
import { receiptStatus } from '../../src/delivery/proof/receipt-status.ts';
import type { NewShipment } from '../../src/delivery/shipments/shipments.input.ts';
import type { ShipmentSummary } from '../../src/delivery/shipments/shipments.store.ts';
import { ManualClock } from '../../src/kernel/clock.ts';
import { defaultProofLimits, defaultProofSettings } from '../support/config.ts';
import { DATABASE_TARGETS, serviceSkipReason, type OpenedDatabase } from '../support/databases.ts';
import { newShipment, squareArea } from '../support/delivery.ts';
import { hasCode } from '../support/errors.ts';
import { masterKey } from '../support/keys.ts';
import { changeCharAt, proofSnapshot, SHIPMENT_DESTINATION, submissionFor } from '../support/proofs.ts';

// Stored proofs of delivery on every supported database: the personal part
// and the images only as ciphertexts bound to their rows, one proof per
// idempotency key even when identical submissions race, the shipment
// delivered in the same transaction, receipts that stop verifying when a
// stored byte changes, shredding that keeps them verifying, and key rotation
// re-encrypting the new columns.

const driverChange = { actor: { type: 'account' as const, id: 'acct_driver1', authMethod: 'password+totp' } };
const opsChange = { actor: { type: 'cli' as const, id: 'contract', authMethod: 'local_shell' } };

for (const target of DATABASE_TARGETS) {
  describe(`proofs of delivery on ${target.name}`, { skip: serviceSkipReason(target.skip) }, () => {
    let opened: OpenedDatabase;
    let keyring: Keyring;
    let delivery: Delivery;
    const clock = new ManualClock('2026-07-01T08:30:00.000Z');
    const db = () => opened.database.db;

    async function outForDelivery(overrides: Partial<NewShipment> = {}): Promise<ShipmentSummary> {
      const { shipment } = await delivery.shipments.create(newShipment({ destination: SHIPMENT_DESTINATION, ...overrides }), opsChange);
      await delivery.shipments.assign(shipment.id, 'acct_driver1', opsChange);
      return delivery.shipments.transition(shipment.id, { to: 'out_for_delivery' }, opsChange);
    }

    before(async () => {
      opened = await target.open();
      keyring = await Keyring.open({ database: opened.database, masterKey: masterKey(), clock, columns: ENCRYPTED_COLUMNS });
      delivery = createDelivery({ db: opened.database.db, keyring, clock, proof: { ...defaultProofSettings(), limits: { ...defaultProofLimits(), maxImagePixels: 1_000_000 }, issuer: 'urn:rampart:contract' } });
      await delivery.depots.add({ id: 'north', name: 'North', location: { lat: 52.52, lon: 13.405 }, serviceArea: squareArea(52.52, 13.405) }, opsChange);
      const now = clock.now().toISOString();
      for (const id of ['acct_driver1', 'acct_driver2']) await db().insertInto('accounts').values({ id, username: id.slice(5), role: 'driver', status: 'active', created_at: now, updated_at: now }).execute();
      await delivery.fleet.setDriver('acct_driver1', 'north', opsChange);
      await delivery.fleet.setDriver('acct_driver2', 'north', opsChange);
    });
    after(() => opened.cleanup());

    test('stores the proof with its personal part and images encrypted and bound to their rows; the shipment is delivered', async () => {
      const shipment = await outForDelivery();
      const submission = submissionFor();
      const outcome = await delivery.proofs.intake.submit(shipment, 'acct_driver1', submission, driverChange);
      assert.equal(outcome.created, true);
      assert.equal((await delivery.shipments.get(shipment.id)).status, 'delivered');

      const row = await loadProofForShipment(db(), shipment.id);
      assert.equal(row.id, outcome.proof.proofId);
      assert.match(row.personal ?? '', /^rk1\./);
      const raw = JSON.stringify(row);
      assert.ok(!raw.includes(submission.signerName), 'the signer name is not stored in clear');
      const images = await db().selectFrom('proof_images').selectAll().where('proof_id', '=', row.id).orderBy('role').execute();
      assert.deepEqual(images.map((i) => [i.role, i.content_type]), [['photo', 'image/jpeg'], ['signature', 'image/png']]);
      for (const image of images) {
        assert.match(image.bytes, /^rk1\./);
        assert.ok(!image.bytes.includes(submission.signature.png.slice(0, 40)));
      }
      const signature = images.find((i) => i.role === 'signature');
      assert.ok(signature !== undefined);
      assert.deepEqual(await keyring.decryptField({ table: 'proof_images', column: 'bytes', rowId: signature.id }, signature.bytes), Buffer.from(submission.signature.png, 'base64'));

      // The personal part copied to another proof does not decrypt there.
      const other = await delivery.proofs.intake.submit(await outForDelivery(), 'acct_driver1', submissionFor(), driverChange);
      const otherRow = await loadProof(db(), other.proof.proofId);
      await db().updateTable('proofs').set({ personal: row.personal }).where('id', '=', otherRow.id).execute();
      await assert.rejects(delivery.proofs.archive.read(await loadProof(db(), otherRow.id), 'RP', opsChange), hasCode('crypto.authentication_failed'));
      await db().updateTable('proofs').set({ personal: otherRow.personal }).where('id', '=', otherRow.id).execute();

      const entries = await db().selectFrom('audit_entries').selectAll().where('action', '=', 'pod.create').where('target_id', '=', row.id).execute();
      assert.equal(entries.length, 1);
      assert.ok(!JSON.stringify(entries).includes(submission.signerName), 'no personal data in the audit trail');
      const read = await delivery.proofs.archive.read(row, shipment.trackingNumber, opsChange);
      assert.deepEqual(read.signer, { name: submission.signerName, relationship: 'recipient' });
    });

    test('an identical retry returns the original proof; identical submissions racing store exactly one', async () => {
      const shipment = await outForDelivery();
      const submission = submissionFor();
      const first = await delivery.proofs.intake.submit(shipment, 'acct_driver1', submission, driverChange);
      const before = await proofSnapshot(db());
      const retry = await delivery.proofs.intake.submit(shipment, 'acct_driver1', structuredClone(submission), driverChange);
      assert.deepEqual(retry, { created: false, proof: first.proof });
      assert.equal(await proofSnapshot(db()), before, 'no second row, no second audit entry');

      const racing = await outForDelivery();
      const same = submissionFor();
      const results = await Promise.all([0, 1, 2].map(() => delivery.proofs.intake.submit(racing, 'acct_driver1', structuredClone(same), driverChange)));
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.equal(new Set(results.map((r) => r.proof.receipt)).size, 1, 'every caller gets the stored receipt');
      assert.equal((await db().selectFrom('proofs').select('id').where('shipment_id', '=', racing.id).execute()).length, 1);
      const audited = await db().selectFrom('audit_entries').select('id').where('action', '=', 'pod.create').where('target_id', '=', results[0]?.proof.proofId ?? '').execute();
      assert.equal(audited.length, 1);
      assert.equal((await db().selectFrom('shipment_events').select('id').where('shipment_id', '=', racing.id).where('to_status', '=', 'delivered').execute()).length, 1);
    });

    test('the same key with other content, a shipment not out for delivery and another driver are refused, writing nothing', async () => {
      const shipment = await outForDelivery();
      const submission = submissionFor();
      await delivery.proofs.intake.submit(shipment, 'acct_driver1', submission, driverChange);
      const before = await proofSnapshot(db());
      const delivered = await delivery.shipments.get(shipment.id);
      await assert.rejects(delivery.proofs.intake.submit(delivered, 'acct_driver1', { ...submission, signerName: 'Someone Else' }, driverChange), hasCode('proof.idempotency_conflict'));
      await assert.rejects(delivery.proofs.intake.submit(delivered, 'acct_driver1', submissionFor(), driverChange), hasCode('proof.not_out_for_delivery'));
      const fresh = await outForDelivery();
      await assert.rejects(delivery.proofs.intake.submit(fresh, 'acct_driver1', submission, driverChange), hasCode('proof.idempotency_conflict'), 'a key is one proof, not one per shipment');
      await assert.rejects(delivery.proofs.intake.submit(fresh, 'acct_driver2', submissionFor(), driverChange), hasCode('proof.not_out_for_delivery'));
      const photo = { contentType: 'image/jpeg' as const, data: Buffer.from('<svg onload="x"/>').toString('base64') };
      const withoutFresh = await proofSnapshot(db());
      await assert.rejects(delivery.proofs.intake.submit(fresh, 'acct_driver1', submissionFor({ photo }), driverChange), hasCode('proof.image_invalid', /photo: not an image/));
      assert.equal(await proofSnapshot(db()), withoutFresh);
      assert.notEqual(before, withoutFresh, 'the fresh shipment itself was created in between');
      assert.equal((await delivery.shipments.get(fresh.id)).status, 'out_for_delivery');
    });

    test('a proof whose audit entry cannot be written is rolled back with the status change', async () => {
      const shipment = await outForDelivery();
      const before = await proofSnapshot(db());
      const head = await db().selectFrom('audit_head').selectAll().executeTakeFirstOrThrow();
      await db().deleteFrom('audit_head').execute();
      try {
        await assert.rejects(delivery.proofs.intake.submit(shipment, 'acct_driver1', submissionFor(), driverChange));
      } finally {
        await db().insertInto('audit_head').values(head).execute();
      }
      assert.equal(await proofSnapshot(db()), before);
      assert.equal((await delivery.shipments.get(shipment.id)).status, 'out_for_delivery');
    });

    test('delivery PINs: issued encrypted, required, compared, counted and locked after too many wrong ones', async () => {
      const shipment = await outForDelivery({ requiredProof: ['signature', 'pin'] });
      await assert.rejects(delivery.proofs.intake.submit(shipment, 'acct_driver1', submissionFor({ pin: '123456' }), driverChange), hasCode('proof.requirement_missing', /none has been issued/));
      const pin = await delivery.proofs.intake.issuePin(shipment.id, opsChange);
      assert.match(pin, /^[0-9]{6}$/);
      const stored = await db().selectFrom('shipments').select(['delivery_pin', 'delivery_pin_failures']).where('id', '=', shipment.id).executeTakeFirstOrThrow();
      assert.match(stored.delivery_pin ?? '', /^rk1\./);
      assert.equal(stored.delivery_pin_failures, 0);
      await assert.rejects(delivery.proofs.intake.submit(shipment, 'acct_driver1', submissionFor(), driverChange), hasCode('proof.requirement_missing', /requires the delivery PIN/));
      const wrong = pin === '000000' ? '000001' : '000000';
      for (let i = 0; i < MAX_PIN_FAILURES; i++) await assert.rejects(delivery.proofs.intake.submit(shipment, 'acct_driver1', submissionFor({ pin: wrong }), driverChange), hasCode('proof.pin_mismatch'));
      await assert.rejects(delivery.proofs.intake.submit(shipment, 'acct_driver1', submissionFor({ pin }), driverChange), hasCode('proof.pin_locked'), 'even the right PIN, once locked');
      const failures = await db().selectFrom('audit_entries').select('details').where('action', '=', 'pod.create').where('outcome', '=', 'failure').where('target_id', '=', shipment.id).execute();
      assert.equal(failures.length, MAX_PIN_FAILURES);
      assert.ok(!failures.some((f) => f.details.includes(pin) || f.details.includes(wrong)), 'no PIN in the audit trail');

      const renewed = await delivery.proofs.intake.issuePin(shipment.id, opsChange);
      const outcome = await delivery.proofs.intake.submit(shipment, 'acct_driver1', submissionFor({ pin: renewed }), driverChange);
      const verified = await verifyReceipt(outcome.proof.receipt, await receiptJwks(db()));
      assert.ok(verified.ok);
      assert.equal(verified.claims.pin_verified, true);
      await assert.rejects(delivery.proofs.intake.issuePin(shipment.id, opsChange), hasCode('shipment.pin_not_possible'));
    });

    test('a receipt stops verifying when any character of it, or any byte of the stored facts or content hash, changes', async () => {
      const shipment = await outForDelivery();
      const { proof } = await delivery.proofs.intake.submit(shipment, 'acct_driver1', submissionFor(), driverChange);
      assert.deepEqual((await receiptStatus(db(), proof.receiptId, proof.receipt))?.verification, { genuine: true, unaltered: true });
      assert.equal((await receiptStatus(db(), proof.receiptId))?.verification, undefined, 'no receipt, no verdict');
      assert.equal(await receiptStatus(db(), 'rcpt_unknown'), undefined);

      for (let i = 0; i < proof.receipt.length; i++) {
        const status = await receiptStatus(db(), proof.receiptId, changeCharAt(proof.receipt, i));
        assert.deepEqual(status && [status.verification?.genuine, status.verification?.unaltered], [false, false], `receipt character ${i}`);
      }

      const row = await loadProof(db(), proof.proofId);
      const changeByte = (text: string, i: number) => text.slice(0, i) + (text.charAt(i) === '0' ? '1' : '0') + text.slice(i + 1);
      for (const [column, value] of [['facts', row.facts], ['content_hash', row.content_hash], ['receipt', row.receipt]] as const) {
        for (let i = 0; i < value.length; i++) {
          await db().updateTable('proofs').set({ [column]: changeByte(value, i) }).where('id', '=', row.id).execute();
          const status = await receiptStatus(db(), proof.receiptId, proof.receipt);
          assert.equal(status?.verification?.unaltered, false, `${column} byte ${i}`);
        }
        await db().updateTable('proofs').set({ [column]: value }).where('id', '=', row.id).execute();
      }
      assert.deepEqual((await receiptStatus(db(), proof.receiptId, proof.receipt))?.verification, { genuine: true, unaltered: true });
    });

    test('retention shreds only proofs past their date: images and personal part gone, the receipt still verifies', async () => {
      const shipment = await outForDelivery();
      const { proof } = await delivery.proofs.intake.submit(shipment, 'acct_driver1', submissionFor(), driverChange);
      const row = await loadProof(db(), proof.proofId);
      assert.equal(row.personal_expires_at, '2033-07-01T08:30:00.000Z');
      assert.equal(await delivery.proofs.archive.shredExpired(), 0);

      clock.advance(Date.parse('2033-07-01T08:29:59.999Z') - clock.now().getTime());
      const young = await delivery.proofs.intake.submit(await outForDelivery(), 'acct_driver1', submissionFor(), driverChange);
      clock.advance(1);
      const shredded = await delivery.proofs.archive.shredExpired();
      assert.ok(shredded >= 1);
      const after = await loadProof(db(), proof.proofId);
      assert.equal(after.personal, null);
      assert.equal(after.personal_shredded_at, '2033-07-01T08:30:00.000Z');
      assert.equal((await db().selectFrom('proof_images').select('id').where('proof_id', '=', proof.proofId).execute()).length, 0);
      assert.notEqual((await loadProof(db(), young.proof.proofId)).personal, null, 'a younger proof is kept');

      assert.deepEqual((await receiptStatus(db(), proof.receiptId, proof.receipt))?.verification, { genuine: true, unaltered: true });
      const verified = await verifyReceipt(proof.receipt, await receiptJwks(db()));
      assert.ok(verified.ok);
      const record = verifyRecordAgainstReceipt(storedRecord(after, null), verified.claims);
      assert.deepEqual(record.ok && record.personalData, 'shredded');
      const view = await delivery.proofs.archive.read(after, shipment.trackingNumber, opsChange);
      assert.equal(view.personalData, 'shredded');
      assert.equal(view.signer, null);
      await assert.rejects(delivery.proofs.archive.image(after, 'signature', shipment.trackingNumber, opsChange), hasCode('proof.personal_data_shredded'));
      const bundle = await verifyProofBundle(JSON.parse(JSON.stringify(await delivery.proofs.archive.export(after, shipment.trackingNumber, opsChange))), { jwks: await receiptJwks(db()) });
      assert.deepEqual(bundle.ok && [bundle.personalData, bundle.images], ['shredded', { signature: 'absent', photo: 'absent' }]);
      const audit = await db().selectFrom('audit_entries').select(['actor_type', 'details']).where('action', '=', 'pod.shred').where('target_id', '=', proof.proofId).execute();
      assert.deepEqual(audit.map((a) => [a.actor_type, (JSON.parse(a.details) as { reason: string }).reason]), [['system', 'retention']]);
      assert.equal(await delivery.proofs.archive.shred(proof.proofId, 'erasure_request', opsChange), false, 'shredding twice writes nothing');
    });

    test('key rotation re-encrypts proofs, their images and delivery PINs, which still read back', async () => {
      const shipment = await outForDelivery({ requiredProof: ['signature', 'photo'] });
      const pinShipment = await outForDelivery({ requiredProof: ['signature', 'pin'] });
      const pin = await delivery.proofs.intake.issuePin(pinShipment.id, opsChange);
      const submission = submissionFor({ signature: { strokes: submissionFor().signature.strokes, png: pngImage(30, 10, 9).toString('base64') } });
      const { proof } = await delivery.proofs.intake.submit(shipment, 'acct_driver1', submission, driverChange);
      const report = await rotateKeys({ database: opened.database, keyring, columns: ENCRYPTED_COLUMNS, clock, settleMs: 0 });
      const prefixes = report.newDataKeys.map(fieldKeyPrefix);
      const current = (value: string | null) => value !== null && prefixes.some((p) => value.startsWith(p));
      assert.ok(current((await loadProof(db(), proof.proofId)).personal));
      for (const image of await db().selectFrom('proof_images').select('bytes').where('proof_id', '=', proof.proofId).execute()) assert.ok(current(image.bytes));
      assert.ok(current((await db().selectFrom('shipments').select('delivery_pin').where('id', '=', pinShipment.id).executeTakeFirstOrThrow()).delivery_pin));
      assert.deepEqual(report.stillRetiring, []);

      const image = await delivery.proofs.archive.image(await loadProof(db(), proof.proofId), 'signature', shipment.trackingNumber, opsChange);
      assert.deepEqual(image.bytes, pngImage(30, 10, 9));
      assert.equal((await delivery.proofs.archive.read(await loadProof(db(), proof.proofId), shipment.trackingNumber, opsChange)).signer?.name, submission.signerName);
      assert.equal((await delivery.proofs.intake.submit(pinShipment, 'acct_driver1', submissionFor({ pin }), driverChange)).created, true);
    });
  });
}
