import { createHash } from 'node:crypto';
import { constantTimeEqual } from '../../../crypto/compare.ts';
import type { Keyring } from '../../../crypto/keyring.ts';
import type { Clock } from '../../../kernel/clock.ts';
import { checkImage, decodeBase64Image, type CheckedImage } from './images.ts';
import type { ProofLimits } from './limits.ts';
import { buildProofRecord, type ProofContext, type ProofRecord } from './record.ts';
import { newReceiptId, signReceipt, type ReceiptClaims } from './receipt.ts';
import { checkProofSubmission, type SubmissionRules } from './submission.schema.ts';

// Accepting a proof of delivery, short of storing it: check the submission
// and its images, build the record, sign the receipt. The shipments side
// stores the result (record encrypted, images, receipt) in its own transaction.

export interface ProofOfDeliveryOptions {
  readonly keyring: Pick<Keyring, 'signingKey'>;
  readonly clock: Clock;
  readonly limits: ProofLimits;
  /** The receipts' `iss`, e.g. the configuration's `identity.tokens.issuer`. */
  readonly issuer: string;
  readonly rules?: SubmissionRules;
}

export interface AcceptedProof {
  /** Store encrypted; `personal` and the images are what shredding removes. */
  readonly record: ProofRecord;
  /** The signed receipt (compact JWS) for the customer. */
  readonly receipt: string;
  readonly claims: ReceiptClaims;
  readonly kid: string;
  readonly images: { readonly signature: CheckedImage; readonly photo?: CheckedImage };
}

export interface ProofOfDelivery {
  /**
   * Checks `submission` (unknown input: it is validated here) and signs its
   * receipt. Throws `proof.invalid`, `proof.image_invalid` or
   * `proof.image_too_large`, having stored nothing. Signing may read the
   * receipt key from the database: call it before the transaction, never inside.
   */
  accept(submission: unknown, context: ProofContext): Promise<AcceptedProof>;
}

export function createProofOfDelivery(options: ProofOfDeliveryOptions): ProofOfDelivery {
  const { limits } = options;
  return {
    async accept(input, context) {
      const submission = checkProofSubmission(input, limits, options.rules);
      const signatureImage = checkImage(decodeBase64Image(submission.signature.png, 'signature'), 'image/png', { maxBytes: limits.maxSignatureBytes, maxPixels: limits.maxImagePixels }, 'signature');
      const photo =
        submission.photo === undefined ? undefined : checkImage(decodeBase64Image(submission.photo.data, 'photo'), submission.photo.contentType, { maxBytes: limits.maxPhotoBytes, maxPixels: limits.maxImagePixels }, 'photo');
      const images = photo === undefined ? { signature: signatureImage } : { signature: signatureImage, photo };
      const record = buildProofRecord({ submission, context, images, receiptId: newReceiptId(), serverTime: options.clock.now(), radiusMeters: limits.radiusMeters });
      const signed = await signReceipt(record, { keyring: options.keyring, issuer: options.issuer });
      return { record, receipt: signed.receipt, claims: signed.claims, kid: signed.kid, images };
    },
  };
}

/** Compares a submitted delivery PIN with the shipment's in constant time (both hashed first, so lengths do not leak either). */
export function pinMatches(submitted: string | undefined, expected: string): boolean {
  if (submitted === undefined) return false;
  const digest = (pin: string) => createHash('sha256').update(pin, 'utf8').digest();
  return constantTimeEqual(digest(submitted), digest(expected));
}
