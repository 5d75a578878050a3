import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { defaultProofLimits } from '../../../../test/support/config.ts';
import { sqliteTarget, type OpenedDatabase } from '../../../../test/support/databases.ts';
import { hasCode } from '../../../../test/support/errors.ts';
import { masterKey } from '../../../../test/support/keys.ts';
import { Keyring } from '../../../crypto/keyring.ts';
import * as keyStore from '../../../crypto/keyring.store.ts';
import { ManualClock } from '../../../kernel/clock.ts';
import { createProofOfDelivery, type AcceptedProof } from './accept.ts';
import { verifyRecordAgainstReceipt } from './record-check.ts';
import { personalCommitment, shredPersonalData, type ProofRecord } from './record.ts';
import { RECEIPT_TYPE, verifyReceipt, type ReceiptClaims } from './receipt.ts';
import { receiptJwks, ReceiptKeys, type ReceiptJwks } from './receipt-keys.ts';
import { proofContext, proofSubmission, strokes } from '../../../../test/support/proof-factories.ts';

const ISSUER = 'urn:rampart:test';
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** `text` with the character at `index` replaced by another one (from the base64url alphabet where it was one). */
function mutateChar(text: string, index: number): string {
  const c = text.charAt(index);
  const position = ALPHABET.indexOf(c);
  const replacement = position === -1 ? (c === '.' ? 'A' : '.') : ALPHABET.charAt((position + 1) % ALPHABET.length);
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('proof-of-delivery receipts', () => {
  let opened: OpenedDatabase;
  let keyring: Keyring;
  let jwks: ReceiptJwks;
  let accepted: AcceptedProof;
  const clock = new ManualClock('2026-01-01T09:00:00.000Z');

  before(async () => {
    opened = await sqliteTarget.open();
    keyring = await Keyring.open({ database: opened.database, masterKey: masterKey(), clock, columns: [] });
    const pod = createProofOfDelivery({ keyring, clock, limits: defaultProofLimits(), issuer: ISSUER });
    accepted = await pod.accept({ ...proofSubmission(), pin: '4821' }, proofContext({ pinVerified: true }));
    // Keys of the other purposes exist too, as in a running server.
    await keyring.signingKey('token');
    await keyring.signingKey('audit');
    jwks = await receiptJwks(opened.database.db);
  });
  after(() => opened.cleanup());

  test('signs with the receipt key and verifies: EdDSA, the receipt typ, the kid', async () => {
    const [header = ''] = accepted.receipt.split('.');
    assert.deepEqual(JSON.parse(Buffer.from(header, 'base64url').toString()), { alg: 'EdDSA', typ: RECEIPT_TYPE, kid: accepted.kid });
    assert.equal(accepted.kid, (await keyring.signingKey('receipt')).kid);
    assert.deepEqual(jwks.keys.map((k) => k.kid), [accepted.kid]);
    const verified = await verifyReceipt(accepted.receipt, jwks);
    assert.ok(verified.ok, verified.ok ? '' : verified.message);
    assert.deepEqual(verified.claims, accepted.claims);
    assert.equal(verified.kid, accepted.kid);
  });

  test('carries the non-personal facts and the content hash', () => {
    const { claims, record } = accepted;
    assert.equal(claims.iss, ISSUER);
    assert.equal(claims.jti, record.receipt_id);
    assert.equal(claims.tracking_number, 'RP1234567890GB');
    assert.equal(claims.delivered_at, '2026-01-01T09:00:00.000Z');
    assert.equal(claims.iat, Date.parse('2026-01-01T09:00:00.000Z') / 1000);
    assert.equal(claims.device_time, record.device_time);
    assert.deepEqual(claims.location, { lat: record.gps.lat, lon: record.gps.lon, accuracy_m: 6, distance_m: 12 });
    assert.equal(claims.location_verified, true);
    assert.equal(claims.pin_verified, true);
    assert.equal(claims.relationship, 'recipient');
    assert.deepEqual(claims.image_hashes, { signature: record.images.signature.sha256, photo: record.images.photo?.sha256 });
    assert.match(claims.content_hash, /^[0-9a-f]{64}$/);
  });

  test('receipt ids are 128-bit random and URL-safe', async () => {
    assert.match(accepted.claims.jti, /^rcpt_[A-Za-z0-9_-]{22}$/);
    const pod = createProofOfDelivery({ keyring, clock, limits: defaultProofLimits(), issuer: ISSUER });
    const again = await pod.accept(proofSubmission(), proofContext());
    assert.notEqual(again.claims.jti, accepted.claims.jti);
  });

  test('holds no personal data: no name, strokes, salt, PIN or driver', () => {
    const payload = Buffer.from(accepted.receipt.split('.')[1] ?? '', 'base64url').toString();
    for (const secret of ['Ada', 'Lovelace', 'strokes', '"x"', 'salt', '4821', 'acct_driver1', 'personal']) assert.ok(!payload.includes(secret), secret);
  });

  test('the record matches its receipt, before and after shredding', () => {
    const present = verifyRecordAgainstReceipt(JSON.parse(JSON.stringify(accepted.record)), accepted.claims);
    assert.deepEqual(present, { ok: true, personalData: 'present', contentHash: accepted.claims.content_hash });
    const shredded = verifyRecordAgainstReceipt(shredPersonalData(accepted.record), accepted.claims);
    assert.deepEqual(shredded, { ok: true, personalData: 'shredded', contentHash: accepted.claims.content_hash });
  });

  test('detects a change to any one character of the receipt', async () => {
    const { receipt } = accepted;
    for (let i = 0; i < receipt.length; i++) {
      const result = await verifyReceipt(mutateChar(receipt, i), jwks);
      assert.equal(result.ok, false, `position ${i} of ${receipt.length} changed, still accepted`);
    }
  });

  test('detects a change of the spare bits in the signature\'s last character', async () => {
    // 64 signature bytes use 86 characters with 4 bits to spare: a lenient decoder reads "B" and "A" alike here.
    const signature = accepted.receipt.split('.')[2] ?? '';
    const sibling = ALPHABET.charAt(ALPHABET.indexOf(signature.at(-1) ?? '') ^ 1);
    assert.deepEqual(Buffer.from(signature.slice(0, -1) + sibling, 'base64url'), Buffer.from(signature, 'base64url'));
    const result = await verifyReceipt(accepted.receipt.slice(0, -1) + sibling, jwks);
    assert.deepEqual(result.ok ? 'accepted' : result.reason, 'malformed');
  });

  test('detects a change to any one byte of the stored record', () => {
    const text = JSON.stringify(accepted.record);
    for (let i = 0; i < text.length; i++) {
      const changed = text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ 1) + text.slice(i + 1);
      let parsed: unknown;
      try {
        parsed = JSON.parse(changed);
      } catch {
        continue; // no longer JSON: refused before any comparison
      }
      const result = verifyRecordAgainstReceipt(parsed, accepted.claims);
      assert.equal(result.ok, false, `byte ${i} (${text.charAt(i)} → ${changed.charAt(i)}) changed, still accepted`);
    }
  });

  test('detects any random byte change to the stored record (property)', () => {
    const bytes = Buffer.from(JSON.stringify(accepted.record));
    fc.assert(
      fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (index, xor) => {
        const changed = Buffer.from(bytes);
        changed[index] = (changed[index] ?? 0) ^ xor;
        let parsed: unknown;
        try {
          parsed = JSON.parse(changed.toString('utf8'));
        } catch {
          return true;
        }
        return !verifyRecordAgainstReceipt(parsed, accepted.claims).ok;
      }),
      { numRuns: 2_000 },
    );
  });

  test('names what changed in the record', () => {
    const record: ProofRecord = structuredClone(accepted.record);
    const check = (changed: ProofRecord) => {
      const result = verifyRecordAgainstReceipt(changed, accepted.claims);
      return result.ok ? 'accepted' : result.reason;
    };
    assert.equal(check({ ...record, tracking_number: 'RP0000000000GB' }), 'fact_mismatch');
    assert.equal(check({ ...record, location_verified: false }), 'fact_mismatch');
    assert.equal(check({ ...record, driver_id: 'acct_driver2' }), 'content_hash_mismatch');
    assert.equal(check({ ...record, intent: { ...record.intent, statement: 'I confirm nothing.' } }), 'content_hash_mismatch');
    const personal = { ...record.personal!, signer_name: 'Ada King' };
    assert.equal(check({ ...record, personal }), 'personal_data_altered');
    // Recomputing the commitment to match does not help: it is inside the content hash.
    assert.equal(check({ ...record, personal, personal_commitment: personalCommitment(personal) }), 'content_hash_mismatch');
    assert.equal(check({ ...record, personal: { ...record.personal!, strokes: strokes(1, 2) } }), 'personal_data_altered');
    assert.equal(check(shredPersonalData({ ...record, radius_m: 5000 })), 'content_hash_mismatch');
    assert.equal(check({ ...record, personal: null, personal_commitment: '0'.repeat(64) }), 'content_hash_mismatch');
    assert.equal(check({ ...record, extra: true } as ProofRecord), 'malformed');
  });

  test('refuses a receipt with another typ, even signed with the receipt key', async () => {
    const key = await keyring.signingKey('receipt');
    const jwt = await new SignJWT(accepted.claims).setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: key.kid }).sign(key.privateKey);
    const result = await verifyReceipt(jwt, jwks);
    assert.deepEqual(result.ok ? 'accepted' : result.reason, 'wrong_type');
  });

  test('refuses a receipt signed with another purpose\'s key (token, audit)', async () => {
    for (const purpose of ['token', 'audit'] as const) {
      const key = await keyring.signingKey(purpose);
      const forged = await new SignJWT(accepted.claims).setProtectedHeader({ alg: 'EdDSA', typ: RECEIPT_TYPE, kid: key.kid }).sign(key.privateKey);
      const result = await verifyReceipt(forged, jwks);
      assert.deepEqual(result.ok ? 'accepted' : [result.reason, result.message.includes(key.kid)], ['unknown_key', true], purpose);
    }
  });

  test('refuses a signature made with another key under the receipt key\'s kid', async () => {
    const token = await keyring.signingKey('token');
    const forged = await new SignJWT(accepted.claims).setProtectedHeader({ alg: 'EdDSA', typ: RECEIPT_TYPE, kid: accepted.kid }).sign(token.privateKey);
    const result = await verifyReceipt(forged, jwks);
    assert.deepEqual(result.ok ? 'accepted' : result.reason, 'bad_signature');
  });

  test('refuses alg none, HS256 and header parameters Rampart does not write', async () => {
    const [, payload = '', signature = ''] = accepted.receipt.split('.');
    const none = `${b64url({ alg: 'none', typ: RECEIPT_TYPE, kid: accepted.kid })}.${payload}.`;
    assert.deepEqual(await reason(none), 'malformed');
    const noneSigned = `${b64url({ alg: 'none', typ: RECEIPT_TYPE, kid: accepted.kid })}.${payload}.${signature}`;
    assert.deepEqual(await reason(noneSigned), 'wrong_algorithm');
    const hs256 = `${b64url({ alg: 'HS256', typ: RECEIPT_TYPE, kid: accepted.kid })}.${payload}.${signature}`;
    assert.deepEqual(await reason(hs256), 'wrong_algorithm');
    const embeddedKey = `${b64url({ alg: 'EdDSA', typ: RECEIPT_TYPE, kid: accepted.kid, jwk: jwks.keys[0] })}.${payload}.${signature}`;
    assert.deepEqual(await reason(embeddedKey), 'malformed');
    assert.deepEqual(await reason('not a receipt'), 'malformed');
    assert.deepEqual(await reason(`${accepted.receipt}.extra`), 'malformed');
    assert.deepEqual(await reason(`${accepted.receipt}\n`), 'malformed');
  });

  async function reason(jws: string): Promise<string> {
    const result = await verifyReceipt(jws, jwks);
    return result.ok ? 'accepted' : result.reason;
  }

  test('refuses claims that are not exactly a receipt\'s, even when properly signed', async () => {
    const key = await keyring.signingKey('receipt');
    const sign = (claims: object) => new SignJWT({ ...claims }).setProtectedHeader({ alg: 'EdDSA', typ: RECEIPT_TYPE, kid: key.kid }).sign(key.privateKey);
    assert.deepEqual(await reason(await sign({ ...accepted.claims, signer_name: 'Ada Lovelace' })), 'invalid_claims');
    const withoutHash: Partial<ReceiptClaims> = { ...accepted.claims };
    delete withoutHash.content_hash;
    assert.deepEqual(await reason(await sign(withoutHash)), 'invalid_claims');
    assert.deepEqual(await reason(await sign({ ...accepted.claims, location_verified: 'yes' })), 'invalid_claims');
  });

  test('receipts signed before a key rotation still verify; the new key signs', async () => {
    const old = await keyring.signingKey('receipt');
    const db = opened.database.db;
    await keyStore.demoteSigningKey(db, old.kid, clock.now().toISOString());
    await keyStore.insertSigningKey(db, keyring.newSigningKeyRow('receipt'));
    keyring.forgetActiveKeys();
    const pod = createProofOfDelivery({ keyring, clock, limits: defaultProofLimits(), issuer: ISSUER });
    const fresh = await pod.accept(proofSubmission(), proofContext());
    assert.notEqual(fresh.kid, old.kid);
    const keys = await receiptJwks(db);
    assert.equal(keys.keys.length, 2);
    assert.ok((await verifyReceipt(accepted.receipt, keys)).ok);
    assert.ok((await verifyReceipt(fresh.receipt, keys)).ok);
    assert.deepEqual(await verifyReceipt(fresh.receipt, jwks).then((r) => (r.ok ? 'accepted' : r.reason)), 'unknown_key');
  });

  test('refuses verification keys that are not a public JWKS', async () => {
    await assert.rejects(verifyReceipt(accepted.receipt, { keys: 'none' }), hasCode('proof.jwks_invalid', /"keys" array/));
    await assert.rejects(verifyReceipt(accepted.receipt, null), hasCode('proof.jwks_invalid'));
    const key = await keyring.signingKey('receipt');
    const privateJwk = { ...key.privateKey.export({ format: 'jwk' }), kid: key.kid };
    await assert.rejects(verifyReceipt(accepted.receipt, { keys: [privateJwk] }), hasCode('proof.jwks_invalid', /private key/));
    await assert.rejects(verifyReceipt(accepted.receipt, { keys: [{ kty: 'OKP', crv: 'Ed25519', kid: 'k1', x: 'short' }] }), hasCode('proof.jwks_invalid', /not a valid Ed25519/));
    // Keys of other types cannot have signed a receipt: skipped, not fatal.
    assert.equal(ReceiptKeys.fromJwks({ keys: [{ kty: 'RSA', kid: 'r1', n: 'x', e: 'AQAB' }, ...jwks.keys] }).size, 1);
  });
});
