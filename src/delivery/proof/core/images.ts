import { createHash } from 'node:crypto';
import { decode as decodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { inflateSync } from 'node:zlib';
import { RampartError } from '../../../kernel/errors.ts';

// Images of a proof of delivery (the signature's PNG rendering, the doorstep
// photo). The bytes decide what an image is, never the declared type; the
// dimensions are read from the header and limited before anything is decoded
// (a few kilobytes can declare gigapixels); then the image must decode
// completely with the pure-JS decoders.

export type ImageType = 'image/png' | 'image/jpeg';
export type ImageRole = 'signature' | 'photo';

export interface ImageLimits {
  readonly maxBytes: number;
  readonly maxPixels: number;
}

export interface CheckedImage {
  readonly role: ImageRole;
  readonly contentType: ImageType;
  readonly width: number;
  readonly height: number;
  readonly bytes: Buffer;
  /** SHA-256 of the bytes, lower-case hex. */
  readonly sha256: string;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PNG_IEND = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

function invalid(role: ImageRole, problem: string): RampartError {
  const detail = `${role}: ${problem}`;
  return new RampartError('proof.image_invalid', `image refused: ${detail}`, { publicDetail: detail });
}

/** A decoder's failure: its message goes to the log only, the caller learns that the image does not decode. */
function undecodable(role: ImageRole, format: string, cause: unknown): RampartError {
  const detail = `${role}: ${format} does not decode`;
  return new RampartError('proof.image_invalid', `image refused: ${detail} (${(cause as Error).message})`, { publicDetail: detail, cause });
}

function tooLarge(role: ImageRole, problem: string): RampartError {
  const detail = `${role}: ${problem}`;
  return new RampartError('proof.image_too_large', `image refused: ${detail}`, { publicDetail: detail });
}

/** Decodes canonical base64 (padded, standard alphabet); anything else is refused, not guessed at. */
export function decodeBase64Image(text: string, role: ImageRole): Buffer {
  const bytes = Buffer.from(text, 'base64');
  if (text.length % 4 !== 0 || bytes.toString('base64') !== text) throw invalid(role, 'not canonical base64');
  return bytes;
}

/** What the first bytes say the image is, or undefined when they are neither PNG nor JPEG. */
export function sniffImageType(bytes: Uint8Array): ImageType | undefined {
  if (bytes.length >= 8 && Buffer.from(bytes.buffer, bytes.byteOffset, 8).equals(PNG_SIGNATURE)) return 'image/png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  return undefined;
}

interface Header {
  readonly width: number;
  readonly height: number;
}

/** Width and height from the IHDR chunk, which must come first. */
function pngHeader(bytes: Buffer, role: ImageRole): Header {
  if (bytes.length < 33 || bytes.readUInt32BE(8) !== 13 || bytes.toString('latin1', 12, 16) !== 'IHDR') {
    throw invalid(role, 'PNG without an image header (IHDR) first');
  }
  if (bytes[28] !== 0) {
    // Interlaced data is inflated without a size bound by the decoder; the app never sends it.
    throw invalid(role, 'interlaced PNG images are not accepted');
  }
  if (!bytes.subarray(bytes.length - PNG_IEND.length).equals(PNG_IEND)) throw invalid(role, 'PNG does not end with its end chunk (truncated, or bytes appended)');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

// Start-of-frame markers: C0–CF except DHT (C4), JPG (C8) and DAC (CC).
const isStartOfFrame = (marker: number) => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

/** Width and height from the first start-of-frame segment, walking the segments before it. */
function jpegHeader(bytes: Buffer, role: ImageRole): Header {
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) throw invalid(role, `JPEG segment expected at byte ${offset}`);
    const marker = bytes[offset + 1] ?? 0;
    if (marker === 0xff) {
      offset++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break; // end of image or scan data before any frame header
    const length = bytes.readUInt16BE(offset + 2);
    if (length < 2) throw invalid(role, `JPEG segment with length ${length} at byte ${offset}`);
    if (isStartOfFrame(marker)) {
      if (offset + 9 > bytes.length) break;
      return { height: bytes.readUInt16BE(offset + 5), width: bytes.readUInt16BE(offset + 7) };
    }
    offset += 2 + length;
  }
  throw invalid(role, 'JPEG without a frame header (truncated)');
}

/**
 * Checks one image: size, that the bytes are the declared type, dimensions
 * from the header within limits, and a complete decode. Throws
 * `proof.image_invalid` or `proof.image_too_large` naming the image.
 */
export function checkImage(bytes: Buffer, declared: ImageType, limits: ImageLimits, role: ImageRole): CheckedImage {
  if (bytes.length === 0) throw invalid(role, 'empty');
  if (bytes.length > limits.maxBytes) throw tooLarge(role, `${bytes.length} bytes; at most ${limits.maxBytes}`);
  const actual = sniffImageType(bytes);
  if (actual === undefined) throw invalid(role, `not an image: the bytes are neither PNG nor JPEG (declared ${declared})`);
  if (actual !== declared) throw invalid(role, `declared ${declared} but the bytes are ${actual}`);

  const header = actual === 'image/png' ? pngHeader(bytes, role) : jpegHeader(bytes, role);
  if (header.width === 0 || header.height === 0) throw invalid(role, `header declares ${header.width} × ${header.height} pixels`);
  const pixels = header.width * header.height;
  if (pixels > limits.maxPixels) throw tooLarge(role, `${header.width} × ${header.height} pixels; at most ${limits.maxPixels} pixels`);

  const decoded = actual === 'image/png' ? decodePng(bytes, header, role) : decodeJpg(bytes, pixels, role);
  if (decoded.width !== header.width || decoded.height !== header.height) throw invalid(role, 'decoded size differs from the header');
  return { role, contentType: actual, width: header.width, height: header.height, bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

const PNG_CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * The pixel data (all IDAT chunks, inflated) must be exactly as long as the
 * header's dimensions need. The decoder does not check this: it reads past
 * short data into whatever memory follows, so a truncated image could pass
 * or fail by chance. Inflating with a bound also caps the work at the size
 * the pixel limit allows.
 */
function checkPngDataLength(bytes: Buffer, header: Header, role: ImageRole): void {
  const channels = PNG_CHANNELS[bytes[25] ?? -1];
  const bitDepth = bytes[24] ?? 0;
  if (channels === undefined || ![1, 2, 4, 8, 16].includes(bitDepth)) throw invalid(role, 'PNG with an unknown colour type or bit depth');
  const expected = (Math.ceil((header.width * channels * bitDepth) / 8) + 1) * header.height;
  const idat: Buffer[] = [];
  for (let offset = 8; offset + 12 <= bytes.length; ) {
    const length = bytes.readUInt32BE(offset);
    if (bytes.toString('latin1', offset + 4, offset + 8) === 'IDAT') idat.push(bytes.subarray(offset + 8, offset + 8 + length));
    offset += 12 + length;
  }
  let inflated: Buffer;
  try {
    inflated = inflateSync(Buffer.concat(idat), { maxOutputLength: expected + 1 });
  } catch (error) {
    throw undecodable(role, 'PNG', error);
  }
  if (inflated.length !== expected) throw invalid(role, `PNG pixel data is ${inflated.length} bytes; the header needs ${expected}`);
}

function decodePng(bytes: Buffer, header: Header, role: ImageRole): Header {
  checkPngDataLength(bytes, header, role);
  try {
    const png = PNG.sync.read(bytes, { checkCRC: true });
    return { width: png.width, height: png.height };
  } catch (error) {
    throw undecodable(role, 'PNG', error);
  }
}

function decodeJpg(bytes: Buffer, pixels: number, role: ImageRole): Header {
  try {
    const image = decodeJpeg(bytes, {
      useTArray: true,
      tolerantDecoding: false,
      maxResolutionInMP: Math.ceil(pixels / 1_000_000),
      // Coefficient blocks and the RGBA output of this image's size, with room for tables.
      maxMemoryUsageInMB: Math.ceil((pixels * 32) / 1_048_576) + 16,
    });
    return { width: image.width, height: image.height };
  } catch (error) {
    throw undecodable(role, 'JPEG', error);
  }
}
