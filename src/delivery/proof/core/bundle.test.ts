import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CompactSign } from 'jose';
import { defaultProofLimits } from '../../../../test/support/config.ts';
import { sqliteTarget, type OpenedDatabase } from '../../../../test/support/databases.ts';
import { hasCode } from '../../../../test/support/errors.ts';
import { masterKey } from '../../../../test/support/keys.ts';
import { Keyring } from '../../../crypto/keyring.ts';
import { ManualClock } from '../../../kernel/clock.ts';
import { BUNDLE_SIGNATURE_TYPE, bundleDigest, exportProofBundle, verifyProofBundle, type BundleVerification, type SignedProofBundle } from './bundle.ts';
import { createProofOfDelivery, type AcceptedProof } from './accept.ts';
import { shredPersonalData } from './record.ts';
import { receiptJwks, type ReceiptJwks } from './receipt-keys.ts';
import { pngImage, proofContext, proofSubmission } from '../../../../test/support/proof-factories.ts';

function outcome(result: BundleVerification): string {
  return result.ok ? 'genuine' : `${result.stage}:${result.reason}`;
}

describe('proof export bundles', () => {
  let opened: OpenedDatabase;
  let keyring: Keyring;
  let jwks: ReceiptJwks;
  let accepted: AcceptedProof;
  let bundle: SignedProofBundle;
  const clock = new ManualClock('2026-01-01T09:00:00.000Z');

  /** Re-signs an altered bundle with the receipt key, as someone holding it (or a tampered store exported honestly) would. */
  async function resign(altered: SignedProofBundle, purpose: 'receipt' | 'token' = 'receipt'): Promise<SignedProofBundle> {
    const key = await keyring.signingKey(purpose);
    const jws = await new CompactSign(bundleDigest(altered)).setProtectedHeader({ alg: 'EdDSA', typ: BUNDLE_SIGNATURE_TYPE, kid: key.kid }).sign(key.privateKey);
    const [header, , signature] = jws.split('.');
    return { ...altered, signature: `${header ?? ''}..${signature ?? ''}` };
  }

  before(async () => {
    opened = await sqliteTarget.open();
    keyring = await Keyring.open({ database: opened.database, masterKey: masterKey(), clock, columns: [] });
    accepted = await createProofOfDelivery({ keyring, clock, limits: defaultProofLimits(), issuer: 'urn:rampart:test' }).accept(proofSubmission(), proofContext());
    await keyring.signingKey('token');
    jwks = await receiptJwks(opened.database.db);
    clock.advance(86_400_000);
    bundle = await exportProofBundle({
      record: accepted.record,
      images: { signature: accepted.images.signature.bytes, photo: accepted.images.photo?.bytes },
      receipt: accepted.receipt,
      jwks,
      keyring,
      clock,
    });
  });
  after(() => opened.cleanup());

  test('holds the record, the images, the receipt and the receipt keys, with a detached signature', () => {
    assert.equal(bundle.type, 'rampart.pod.export');
    assert.equal(bundle.exported_at, '2026-01-02T09:00:00.000Z');
    assert.deepEqual(bundle.record, accepted.record);
    assert.equal(bundle.images.signature, accepted.images.signature.bytes.toString('base64'));
    assert.equal(bundle.receipt, accepted.receipt);
    assert.deepEqual(bundle.jwks, jwks);
    assert.match(bundle.signature, /^[\w-]+\.\.[\w-]+$/);
  });

  test('verifies with keys given apart from it, and with its own keys (saying so)', async () => {
    const given = await verifyProofBundle(JSON.parse(JSON.stringify(bundle)), { jwks });
    assert.ok(given.ok, given.ok ? '' : given.message);
    assert.deepEqual({ keysFrom: given.keysFrom, personal: given.personalData, images: given.images }, { keysFrom: 'given', personal: 'present', images: { signature: 'matches', photo: 'matches' } });
    assert.deepEqual(given.claims, accepted.claims);
    const own = await verifyProofBundle(JSON.parse(JSON.stringify(bundle)));
    assert.ok(own.ok && own.keysFrom === 'bundle');
  });

  test('a bundle of a shredded proof (no images, no personal data) still verifies', async () => {
    const shredded = await exportProofBundle({ record: shredPersonalData(accepted.record), images: {}, receipt: accepted.receipt, jwks, keyring, clock });
    const result = await verifyProofBundle(shredded, { jwks });
    assert.ok(result.ok, result.ok ? '' : result.message);
    assert.deepEqual({ personal: result.personalData, images: result.images }, { personal: 'shredded', images: { signature: 'absent', photo: 'absent' } });
  });

  test('any change without re-signing breaks the bundle signature', async () => {
    const changes: Array<(b: SignedProofBundle) => SignedProofBundle> = [
      (b) => ({ ...b, exported_at: '2026-01-03T09:00:00.000Z' }),
      (b) => ({ ...b, record: { ...b.record, driver_id: 'acct_other' } }),
      (b) => ({ ...b, images: { ...b.images, photo: pngImage().toString('base64') } }),
      (b) => ({ ...b, images: { signature: b.images.signature ?? '' } }),
      (b) => ({ ...b, jwks: { keys: [] } }),
    ];
    for (const change of changes) assert.equal(outcome(await verifyProofBundle(change(bundle), { jwks })), 'bundle:bad_signature');
  });

  test('re-signed changes are caught by the receipt: an altered record or image', async () => {
    assert.equal(outcome(await verifyProofBundle(await resign({ ...bundle, record: { ...bundle.record, driver_id: 'acct_other' } }), { jwks })), 'record:content_hash_mismatch');
    assert.equal(outcome(await verifyProofBundle(await resign({ ...bundle, images: { ...bundle.images, photo: pngImage().toString('base64') } }), { jwks })), 'image:hash_mismatch');
    const [header = '', payload = '', signature = ''] = bundle.receipt.split('.');
    const receipt = `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    assert.equal(outcome(await verifyProofBundle(await resign({ ...bundle, receipt }), { jwks })), 'receipt:bad_signature');
    const noPhoto = { ...bundle, record: { ...bundle.record, images: { signature: bundle.record.images.signature } } };
    assert.equal(outcome(await verifyProofBundle(await resign(noPhoto), { jwks })), 'record:fact_mismatch');
  });

  test('refuses a bundle signed with a key other than a receipt key', async () => {
    const byToken = await resign(bundle, 'token');
    assert.equal(outcome(await verifyProofBundle(byToken, { jwks })), 'bundle:unknown_key');
  });

  test('keys given apart from the bundle win over the bundle\'s own', async () => {
    // Another Rampart (or anyone with a key pair) can make a self-consistent bundle.
    const elsewhere = await sqliteTarget.open();
    try {
      const otherRing = await Keyring.open({ database: elsewhere.database, masterKey: masterKey(), clock, columns: [] });
      const other = await createProofOfDelivery({ keyring: otherRing, clock, limits: defaultProofLimits(), issuer: 'urn:elsewhere' }).accept(proofSubmission(), proofContext());
      const otherKeys = await receiptJwks(elsewhere.database.db);
      const forged = await exportProofBundle({ record: other.record, images: {}, receipt: other.receipt, jwks: otherKeys, keyring: otherRing, clock });
      assert.equal(outcome(await verifyProofBundle(forged)), 'genuine');
      assert.equal(outcome(await verifyProofBundle(forged, { jwks })), 'bundle:unknown_key');
    } finally {
      await elsewhere.cleanup();
    }
  });

  test('refuses malformed bundles', async () => {
    assert.equal(outcome(await verifyProofBundle('bundle')), 'bundle:malformed');
    assert.equal(outcome(await verifyProofBundle({ ...bundle, note: 'x' }, { jwks })), 'bundle:malformed');
    const unsigned = Object.fromEntries(Object.entries(bundle).filter(([name]) => name !== 'signature'));
    assert.equal(outcome(await verifyProofBundle(unsigned, { jwks })), 'bundle:malformed');
    assert.equal(outcome(await verifyProofBundle({ ...bundle, v: 2 }, { jwks })), 'bundle:malformed');
    assert.equal(outcome(await verifyProofBundle({ ...bundle, images: { thumbnail: 'AAAA' } }, { jwks })), 'bundle:malformed');
    assert.equal(outcome(await verifyProofBundle({ ...bundle, signature: accepted.receipt }, { jwks })), 'bundle:malformed');
    await assert.rejects(verifyProofBundle({ ...bundle, jwks: {} }), hasCode('proof.jwks_invalid'));
  });
});
