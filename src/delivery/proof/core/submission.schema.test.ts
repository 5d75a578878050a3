import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultProofLimits } from '../../../../test/support/config.ts';
import { hasCode } from '../../../../test/support/errors.ts';
import { base64Length, MAX_POINTS, MAX_POINTS_PER_STROKE, MAX_STROKES, proofBodyLimitBytes } from './limits.ts';
import { checkProofSubmission, type ProofSubmission } from './submission.schema.ts';
import { proofSubmission, strokes } from '../../../../test/support/proof-factories.ts';

const limits = defaultProofLimits();

/** A valid submission with one field replaced (or removed, with `undefined`) at a dotted path. */
function withField(path: string, value: unknown): unknown {
  const keys = path.split('.');
  const replace = (node: Record<string, unknown>, depth: number): Record<string, unknown> => {
    const key = keys[depth] ?? '';
    const next = depth === keys.length - 1 ? value : replace(node[key] as Record<string, unknown>, depth + 1);
    const entries: Array<[string, unknown]> = Object.entries(node).filter(([name]) => name !== key);
    if (next !== undefined) entries.push([key, next]);
    return Object.fromEntries(entries);
  };
  return replace(structuredClone(proofSubmission()), 0);
}

describe('proof submission schema', () => {
  test('accepts a complete submission, and one without the optional photo and PIN', () => {
    const full: ProofSubmission = { ...proofSubmission(), pin: '4821' };
    assert.deepEqual(checkProofSubmission(full, limits), full);
    const minimal: ProofSubmission = proofSubmission();
    delete minimal.photo;
    assert.deepEqual(checkProofSubmission(minimal, limits), minimal);
  });

  const refusals: ReadonlyArray<[string, string, unknown, RegExp]> = [
    ['the statement not accepted', 'intent.accepted', false, /\/intent\/accepted/],
    ['acceptance given as a string', 'intent.accepted', 'true', /\/intent\/accepted/],
    ['no intent statement', 'intent.statement', '', /\/intent\/statement/],
    ['no signer name', 'signerName', undefined, /signerName/],
    ['a blank signer name', 'signerName', '   ', /\/signerName/],
    ['a signer name with a line break', 'signerName', 'Ada\nsigned: yes', /\/signerName/],
    ['an unknown relationship', 'relationship', 'friend', /\/relationship/],
    ['an unknown field', 'tip', 5, /additional properties \(tip\)/],
    ['an unknown field inside the signature', 'signature.svg', '<svg/>', /\/signature: .*additional properties \(svg\)/],
    ['no strokes', 'signature.strokes', [], /\/signature\/strokes/],
    ['an empty stroke', 'signature.strokes', [[]], /\/signature\/strokes\/0/],
    ['a point with a fractional coordinate', 'signature.strokes', [[{ x: 1.5, y: 2, t: 0 }]], /\/signature\/strokes\/0\/0\/x/],
    ['a point off the canvas', 'signature.strokes', [[{ x: -1, y: 2, t: 0 }]], /\/signature\/strokes\/0\/0\/x/],
    ['a point without a time', 'signature.strokes', [[{ x: 1, y: 2 }]], /\/signature\/strokes\/0\/0/],
    ['a point with an extra field', 'signature.strokes', [[{ x: 1, y: 2, t: 0, pressure: 1 }]], /pressure/],
    ['too many strokes', 'signature.strokes', strokes(MAX_STROKES + 1, 1), /\/signature\/strokes/],
    ['too many points in one stroke', 'signature.strokes', strokes(1, MAX_POINTS_PER_STROKE + 1), /\/signature\/strokes\/0/],
    ['a signature PNG that is not base64', 'signature.png', 'iVBOR w0K', /\/signature\/png/],
    ['a signature PNG over the byte limit', 'signature.png', 'A'.repeat(base64Length(limits.maxSignatureBytes) + 4), /\/signature\/png/],
    ['a photo of an undeclared type', 'photo.contentType', 'image/gif', /\/photo\/contentType/],
    ['a photo without a type', 'photo.contentType', undefined, /\/photo/],
    ['a photo over the byte limit', 'photo.data', 'A'.repeat(base64Length(limits.maxPhotoBytes) + 4), /\/photo\/data/],
    ['a PIN with letters', 'pin', '12a4', /\/pin/],
    ['a PIN too short', 'pin', '123', /\/pin/],
    ['no GPS fix', 'gps', undefined, /gps/],
    ['a latitude beyond the pole', 'gps.lat', 90.5, /\/gps\/lat/],
    ['a negative accuracy', 'gps.accuracyM', -1, /\/gps\/accuracyM/],
    ['a device time without a zone', 'deviceTime', '2026-01-01T10:00:00', /\/deviceTime/],
    ['a device time that is no date', 'deviceTime', '2026-02-30T10:00:00Z', /\/deviceTime/],
    ['a short idempotency key', 'idempotencyKey', 'abc', /\/idempotencyKey/],
    ['an idempotency key with spaces', 'idempotencyKey', 'a b c d e f g h i j k l', /\/idempotencyKey/],
  ];
  for (const [what, path, value, where] of refusals) {
    test(`refuses ${what}`, () => {
      assert.throws(() => checkProofSubmission(withField(path, value), limits), hasCode('proof.invalid', where));
    });
  }

  test('refuses a submission that is not an object', () => {
    for (const value of [null, [], 'proof', 42]) assert.throws(() => checkProofSubmission(value, limits), hasCode('proof.invalid'));
  });

  test(`refuses more than ${MAX_POINTS} points in all, although each stroke is within its bound`, () => {
    const many = strokes(Math.ceil((MAX_POINTS + 1) / 1000), 1000);
    assert.throws(() => checkProofSubmission(withField('signature.strokes', many), limits), hasCode('proof.invalid', /points; at most 10000 in all/));
    assert.doesNotThrow(() => checkProofSubmission(withField('signature.strokes', strokes(10, 1000)), limits));
  });

  test('refuses an intent statement the app does not show, when the statements are given', () => {
    const rules = { intentStatements: ['I confirm I received this parcel in good condition.'] };
    assert.doesNotThrow(() => checkProofSubmission(proofSubmission(), limits, rules));
    const other = withField('intent.statement', 'I confirm nothing.');
    assert.throws(() => checkProofSubmission(other, limits, rules), hasCode('proof.invalid', /not a statement the driver app shows/));
  });

  test('the refusal names the field in its public detail', () => {
    assert.throws(
      () => checkProofSubmission(withField('intent.accepted', false), limits),
      (error: { publicDetail?: string }) => /\/intent\/accepted/.test(error.publicDetail ?? ''),
    );
  });

  test('the body limit for the route fits both images at their largest', () => {
    const needed = base64Length(limits.maxPhotoBytes) + base64Length(limits.maxSignatureBytes);
    assert.ok(proofBodyLimitBytes(limits) > needed);
  });
});
