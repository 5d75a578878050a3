import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalJson } from '../../../kernel/canonical-json.ts';
import { checkImage, decodeBase64Image } from './images.ts';
import { buildProofRecord, personalCommitment, personalDataExpiresAt, proofContentHash, proofFacts, proofRecordProblem, shredPersonalData, type ProofRecord } from './record.ts';
import { newReceiptId } from './receipt.ts';
import { checkProofSubmission, type ProofSubmission } from './submission.schema.ts';
import { defaultProofLimits } from '../../../../test/support/config.ts';
import { DESTINATION, northOf, proofContext, proofSubmission } from '../../../../test/support/proof-factories.ts';

const limits = defaultProofLimits();
const SERVER_TIME = new Date('2026-01-01T09:00:01.500Z');

function record(submission: ProofSubmission = proofSubmission(), radiusMeters = 150): ProofRecord {
  const checked = checkProofSubmission(submission, limits);
  const imageLimits = { maxBytes: limits.maxPhotoBytes, maxPixels: limits.maxImagePixels };
  const signature = checkImage(decodeBase64Image(checked.signature.png, 'signature'), 'image/png', imageLimits, 'signature');
  const photo = checked.photo === undefined ? undefined : checkImage(decodeBase64Image(checked.photo.data, 'photo'), checked.photo.contentType, imageLimits, 'photo');
  return buildProofRecord({ submission: checked, context: proofContext(), images: { signature, photo }, receiptId: newReceiptId(), serverTime: SERVER_TIME, radiusMeters });
}

function at(meters: number): ProofSubmission {
  const fix = northOf(DESTINATION, meters);
  return proofSubmission({ gps: { lat: fix.lat, lon: fix.lon, accuracyM: 5 } });
}

describe('proof record', () => {
  test('location is verified at exactly the radius, and flagged (kept, not refused) just beyond it', () => {
    const inside = record(at(150));
    assert.equal(inside.distance_m, 150);
    assert.equal(inside.location_verified, true);
    const beyond = record(at(150.1));
    assert.equal(beyond.distance_m, 150.1);
    assert.equal(beyond.location_verified, false);
    assert.equal(beyond.radius_m, 150);
    const far = record(at(2_000));
    assert.equal(far.location_verified, false);
    assert.equal(far.distance_m, 2000);
  });

  test('the radius is the configured one', () => {
    assert.equal(record(at(300), 500).location_verified, true);
    assert.equal(record(at(300), 500).radius_m, 500);
  });

  test('holds every fact of the proof; the PIN itself is never in it', () => {
    const built = record(proofSubmission({ pin: '4821' }));
    assert.equal(proofRecordProblem(built), undefined);
    assert.equal(built.tracking_number, 'RP1234567890GB');
    assert.equal(built.shipment_id, 'shp_test1');
    assert.equal(built.driver_id, 'acct_driver1');
    assert.equal(built.relationship, 'recipient');
    assert.deepEqual(built.intent, { statement: 'I confirm I received this parcel in good condition.', accepted: true });
    assert.equal(built.pin_verified, false);
    assert.equal(built.device_time, '2026-01-01T09:59:58.120+01:00');
    assert.equal(built.server_time, '2026-01-01T09:00:01.500Z');
    assert.deepEqual(built.destination, DESTINATION);
    assert.equal(built.images.photo?.content_type, 'image/jpeg');
    assert.equal(built.personal?.signer_name, 'Ada Lovelace');
    assert.ok(!canonicalJson(built).includes('4821'));
  });

  test('personal data appears only in the personal part, which the content hash covers through its commitment', () => {
    const built = record();
    const facts = canonicalJson(proofFacts(built));
    assert.ok(!facts.includes('Ada Lovelace'));
    assert.ok(!facts.includes('"strokes"'));
    assert.equal(built.personal_commitment, personalCommitment(built.personal!));
    const renamed = { ...built, personal: { ...built.personal!, signer_name: 'Ada King' } };
    assert.notEqual(personalCommitment(renamed.personal), built.personal_commitment);
  });

  test('the commitment is salted: the same signer and strokes commit differently each time', () => {
    const a = record();
    const b = record();
    assert.notEqual(a.personal!.salt, b.personal!.salt);
    assert.notEqual(a.personal_commitment, b.personal_commitment);
  });

  test('the content hash is SHA-256 over the canonical facts and does not depend on key order', () => {
    const built = record();
    const reordered = Object.fromEntries(Object.entries(built).reverse()) as ProofRecord;
    assert.match(proofContentHash(built), /^[0-9a-f]{64}$/);
    assert.equal(proofContentHash(reordered), proofContentHash(built));
    assert.notEqual(proofContentHash({ ...built, driver_id: 'acct_driver2' }), proofContentHash(built));
  });

  test('shredding removes the personal part and keeps the content hash', () => {
    const built = record();
    const shredded = shredPersonalData(built);
    assert.equal(shredded.personal, null);
    assert.equal(proofRecordProblem(shredded), undefined);
    assert.equal(proofContentHash(shredded), proofContentHash(built));
    assert.ok(!JSON.stringify(shredded).includes('Ada'));
  });

  test('personal data expires after the retention period', () => {
    assert.equal(personalDataExpiresAt('2026-03-01T10:00:00.000Z', 7).toISOString(), '2033-03-01T10:00:00.000Z');
  });

  test('a would-be record with an unknown field or a missing one is not a record', () => {
    const built = record();
    assert.match(proofRecordProblem({ ...built, note: 'x' }) ?? '', /additional properties/);
    const missing: Partial<ProofRecord> = { ...built };
    delete missing.gps;
    assert.notEqual(proofRecordProblem(missing), undefined);
  });
});
