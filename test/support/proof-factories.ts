import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { crc32 } from 'node:zlib';
import type { LatLon } from '../../src/delivery/proof/core/geo.ts';
import { EARTH_RADIUS_M } from '../../src/kernel/geo.ts';
import type { ProofContext } from '../../src/delivery/proof/core/record.ts';
import type { ProofSubmission, Strokes } from '../../src/delivery/proof/core/submission.schema.ts';

// Proof-of-delivery factories for tests: real images made with
// the same libraries' encoders, and valid submissions to break one field at a time.

/** Pixel `i` of a small deterministic pattern, so images of the same size still differ by seed. */
function pattern(width: number, height: number, seed: number): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    data[i * 4] = (i * 7 + seed) & 0xff;
    data[i * 4 + 1] = (i * 13 + seed * 3) & 0xff;
    data[i * 4 + 2] = (i * 29) & 0xff;
    data[i * 4 + 3] = 0xff;
  }
  return data;
}

export function pngImage(width = 16, height = 8, seed = 1): Buffer {
  const png = new PNG({ width, height });
  pattern(width, height, seed).copy(png.data);
  return PNG.sync.write(png);
}

export function jpegImage(width = 16, height = 8, seed = 1): Buffer {
  return encodeJpeg({ data: pattern(width, height, seed), width, height }, 80).data;
}

/** A real PNG whose header (with a valid CRC) claims other dimensions than its pixel data has. */
export function pngClaiming(width: number, height: number): Buffer {
  const bytes = Buffer.from(pngImage(4, 4));
  bytes.writeUInt32BE(width, 16);
  bytes.writeUInt32BE(height, 20);
  bytes.writeUInt32BE(crc32(bytes.subarray(12, 29)), 29);
  return bytes;
}

/** A real JPEG whose frame header claims other dimensions than its scan data has. */
export function jpegClaiming(width: number, height: number): Buffer {
  const bytes = Buffer.from(jpegImage(8, 8));
  for (let offset = 2; offset + 9 <= bytes.length; ) {
    const marker = bytes[offset + 1] ?? 0;
    if (marker === 0xc0 || marker === 0xc2) {
      bytes.writeUInt16BE(height, offset + 5);
      bytes.writeUInt16BE(width, offset + 7);
      return bytes;
    }
    offset += 2 + bytes.readUInt16BE(offset + 2);
  }
  throw new Error('no frame header in the test JPEG');
}

export function strokes(count = 2, pointsPerStroke = 3): Strokes {
  return Array.from({ length: count }, (_, s) => Array.from({ length: pointsPerStroke }, (_, p) => ({ x: 10 + s * 40 + p * 5, y: 20 + p * 3, t: s * 400 + p * 16 })));
}

export const DESTINATION: LatLon = { lat: 51.501364, lon: -0.14189 };

/** The point `meters` due north of `from` (along a meridian the great-circle distance is exact). */
export function northOf(from: LatLon, meters: number): LatLon {
  return { lat: from.lat + (meters / EARTH_RADIUS_M) * (180 / Math.PI), lon: from.lon };
}

export function proofSubmission(overrides: Partial<ProofSubmission> = {}): ProofSubmission {
  const at = northOf(DESTINATION, 12);
  return {
    signature: { strokes: strokes(), png: pngImage(24, 12, 2).toString('base64') },
    signerName: 'Ada Lovelace',
    relationship: 'recipient',
    intent: { statement: 'I confirm I received this parcel in good condition.', accepted: true },
    photo: { contentType: 'image/jpeg', data: jpegImage(16, 16, 3).toString('base64') },
    gps: { lat: at.lat, lon: at.lon, accuracyM: 6 },
    deviceTime: '2026-01-01T09:59:58.120+01:00',
    idempotencyKey: '0d6f1d52-9c2e-4f43-9a57-2f1f0c6f4f11',
    ...overrides,
  };
}

export function proofContext(overrides: Partial<ProofContext> = {}): ProofContext {
  return { trackingNumber: 'RP1234567890GB', shipmentId: 'shp_test1', driverId: 'acct_driver1', destination: DESTINATION, pinVerified: false, ...overrides };
}
