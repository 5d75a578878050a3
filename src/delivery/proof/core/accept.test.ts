import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { defaultProofLimits } from '../../../../test/support/config.ts';
import { sqliteTarget, type OpenedDatabase } from '../../../../test/support/databases.ts';
import { hasCode } from '../../../../test/support/errors.ts';
import { masterKey } from '../../../../test/support/keys.ts';
import { Keyring } from '../../../crypto/keyring.ts';
import { ManualClock } from '../../../kernel/clock.ts';
import { createProofOfDelivery, pinMatches, type ProofOfDelivery } from './accept.ts';
import { verifyRecordAgainstReceipt } from './record-check.ts';
import { verifyReceipt } from './receipt.ts';
import { receiptJwks } from './receipt-keys.ts';
import { jpegImage, pngClaiming, pngImage, proofContext, proofSubmission } from '../../../../test/support/proof-factories.ts';

describe('accepting a proof of delivery', () => {
  let opened: OpenedDatabase;
  let pod: ProofOfDelivery;
  const clock = new ManualClock('2026-01-01T09:00:00.000Z');
  const signingKeys = async () => (await opened.database.db.selectFrom('signing_keys').select('kid').execute()).length;

  before(async () => {
    opened = await sqliteTarget.open();
    const keyring = await Keyring.open({ database: opened.database, masterKey: masterKey(), clock, columns: [] });
    pod = createProofOfDelivery({
      keyring,
      clock,
      limits: { ...defaultProofLimits(), maxImagePixels: 100_000 },
      issuer: 'urn:rampart:test',
      rules: { intentStatements: ['I confirm I received this parcel in good condition.'] },
    });
  });
  after(() => opened.cleanup());

  // These run first, on a database with no keys yet: a refusal must not even create the receipt key.
  test('refuses a photo whose bytes are not an image, before signing anything', async () => {
    const photo = { contentType: 'image/jpeg' as const, data: Buffer.from('<html>not a photo</html>').toString('base64') };
    await assert.rejects(pod.accept(proofSubmission({ photo }), proofContext()), hasCode('proof.image_invalid', /photo: not an image/));
    assert.equal(await signingKeys(), 0);
  });

  test('refuses a photo declared as JPEG that is a PNG, and a signature rendering that is a JPEG', async () => {
    const photo = { contentType: 'image/jpeg' as const, data: pngImage().toString('base64') };
    await assert.rejects(pod.accept(proofSubmission({ photo }), proofContext()), hasCode('proof.image_invalid', /photo: declared image\/jpeg but the bytes are image\/png/));
    const signature = { ...proofSubmission().signature, png: jpegImage().toString('base64') };
    await assert.rejects(pod.accept(proofSubmission({ signature }), proofContext()), hasCode('proof.image_invalid', /signature: declared image\/png but the bytes are image\/jpeg/));
    assert.equal(await signingKeys(), 0);
  });

  test('refuses an image beyond the configured pixel limit', async () => {
    const photo = { contentType: 'image/png' as const, data: pngClaiming(1000, 1000).toString('base64') };
    await assert.rejects(pod.accept(proofSubmission({ photo }), proofContext()), hasCode('proof.image_too_large', /at most 100000 pixels/));
  });

  test('refuses an invalid submission and an unknown intent statement', async () => {
    await assert.rejects(pod.accept({ ...proofSubmission(), intent: { statement: 'x', accepted: false } }, proofContext()), hasCode('proof.invalid', /\/intent\/accepted/));
    await assert.rejects(pod.accept({ ...proofSubmission(), intent: { statement: 'x', accepted: true } }, proofContext()), hasCode('proof.invalid', /not a statement the driver app shows/));
    assert.equal(await signingKeys(), 0);
  });

  test('accepts a valid proof: a record and a receipt that verify together', async () => {
    const accepted = await pod.accept(proofSubmission(), proofContext());
    const verified = await verifyReceipt(accepted.receipt, await receiptJwks(opened.database.db));
    assert.ok(verified.ok);
    assert.equal(verifyRecordAgainstReceipt(accepted.record, verified.claims).ok, true);
    assert.equal(accepted.images.photo?.contentType, 'image/jpeg');
  });

  test('compares delivery PINs exactly', () => {
    assert.equal(pinMatches('4821', '4821'), true);
    assert.equal(pinMatches('4822', '4821'), false);
    assert.equal(pinMatches('48210', '4821'), false);
    assert.equal(pinMatches(undefined, '4821'), false);
  });
});
