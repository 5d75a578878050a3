// Proof of delivery: the core the shipments routes call. No tables and no
// routes here; the caller owns storage, permissions and transactions.
//
// Accepting a proof (POST from the driver app):
//   const pod = createProofOfDelivery({ keyring, clock, limits: proofLimits(config.delivery), issuer: config.identity.tokens.issuer });
//   // route body schema: proofSubmissionSchema(limits); body limit: proofBodyLimitBytes(limits)
//   const pinVerified = shipment.pin !== null && pinMatches(body.pin, shipment.pin);
//   const accepted = await pod.accept(body, { trackingNumber, shipmentId, driverId, destination, pinVerified });
//   // then, in one transaction: store accepted.record (encrypted: it holds personal data),
//   // accepted.images (encrypted), accepted.receipt, the idempotency key; audit it.
//   // accept() signs with the receipt key, which may read the database: never call it inside the transaction.
//
// Checking a stored proof:      verifyReceipt(receipt, await receiptJwks(db)) then verifyRecordAgainstReceipt(record, claims)
// Shredding (after proofRetentionYears, personalDataExpiresAt): store shredPersonalData(record) and delete the images;
//                                the receipt and the facts keep verifying.
// Export (`pod.export`, step-up enforced by the caller): exportProofBundle({...}), verified offline by verifyProofBundle
//                                or `rampart receipt verify <file>`.
//
// docs/SECURITY.md ("Proof of delivery and receipts") explains what is hashed, signed and encrypted.

export { MAX_POINTS, MAX_POINTS_PER_STROKE, MAX_STROKES, proofBodyLimitBytes, proofLimits, type DeliveryConfig, type ProofLimits } from './limits.ts';
export {
  checkProofSubmission,
  PHOTO_TYPES,
  proofSubmissionSchema,
  RELATIONSHIPS,
  type PhotoType,
  type ProofSubmission,
  type Relationship,
  type StrokePoint,
  type Strokes,
  type SubmissionRules,
} from './submission.schema.ts';
export { checkImage, decodeBase64Image, sniffImageType, type CheckedImage, type ImageLimits, type ImageRole, type ImageType } from './images.ts';
export type { LatLon } from './geo.ts';
export {
  buildProofRecord,
  isProofRecord,
  personalCommitment,
  personalDataExpiresAt,
  proofContentHash,
  proofFacts,
  ProofFactsSchema,
  proofRecordProblem,
  ProofRecordSchema,
  shredPersonalData,
  RECORD_TYPE,
  type BuildProofRecordInput,
  type ImageFact,
  type ProofContext,
  type ProofFacts,
  type ProofPersonalData,
  type ProofRecord,
} from './record.ts';
export { newReceiptId, RECEIPT_TYPE, receiptClaims, ReceiptClaimsSchema, signReceipt, verifyReceipt, type ReceiptClaims, type ReceiptFailure, type ReceiptVerification, type SignedReceipt } from './receipt.ts';
export { receiptJwks, ReceiptKeys, type ReceiptJwks } from './receipt-keys.ts';
export { verifyRecordAgainstReceipt, type RecordFailure, type RecordVerification } from './record-check.ts';
export {
  BUNDLE_SIGNATURE_TYPE,
  BUNDLE_TYPE,
  bundleDigest,
  exportProofBundle,
  verifyProofBundle,
  type BundleFailure,
  type BundleVerification,
  type ExportProofBundleOptions,
  type ImageStatus,
  type ProofBundle,
  type SignedProofBundle,
} from './bundle.ts';
export { createProofOfDelivery, pinMatches, type AcceptedProof, type ProofOfDelivery, type ProofOfDeliveryOptions } from './accept.ts';
export { MAX_JWS_LENGTH, type JwsFailure } from './jws.ts';
