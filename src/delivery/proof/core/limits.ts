import type { RampartConfig } from '../../../config/schema.ts';

// The configurable limits of a proof of delivery (`delivery.*`), plus the fixed
// bounds of the signature's vector strokes.

export type DeliveryConfig = RampartConfig['delivery'];

export interface ProofLimits {
  /** Farther than this from the destination: `location_verified: false`. */
  readonly radiusMeters: number;
  readonly maxPhotoBytes: number;
  readonly maxSignatureBytes: number;
  /** Width × height, checked from the header before an image is decoded. */
  readonly maxImagePixels: number;
}

export function proofLimits(config: DeliveryConfig): ProofLimits {
  return {
    radiusMeters: config.proofRadiusMeters,
    maxPhotoBytes: config.maxPhotoBytes,
    maxSignatureBytes: config.maxSignatureBytes,
    maxImagePixels: config.maxImagePixels,
  };
}

/** Strokes in one signature, points in one stroke, and points in all strokes together. */
export const MAX_STROKES = 64;
export const MAX_POINTS_PER_STROKE = 2_000;
export const MAX_POINTS = 10_000;
/** Signature canvas coordinates (device pixels) and stroke time (ms since the first touch, at most 10 minutes). */
export const MAX_COORDINATE = 10_000;
export const MAX_STROKE_TIME_MS = 600_000;

/** Characters of base64 needed for `bytes` bytes. */
export function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

/**
 * The request body limit a proof-of-delivery route needs: both images at their
 * largest as base64, the largest stroke set, and room for the other fields.
 */
export function proofBodyLimitBytes(limits: ProofLimits): number {
  const strokes = MAX_POINTS * 40;
  return base64Length(limits.maxPhotoBytes) + base64Length(limits.maxSignatureBytes) + strokes + 16_384;
}
