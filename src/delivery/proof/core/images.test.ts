import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { PNG } from 'pngjs';
import { hasCode } from '../../../../test/support/errors.ts';
import { checkImage, decodeBase64Image, sniffImageType, type ImageLimits } from './images.ts';
import { jpegClaiming, jpegImage, pngClaiming, pngImage } from '../../../../test/support/proof-factories.ts';

const limits: ImageLimits = { maxBytes: 1_048_576, maxPixels: 1_000_000 };

describe('proof images', () => {
  test('accepts a real PNG and a real JPEG, with their dimensions and SHA-256', () => {
    const png = pngImage(24, 12);
    const checked = checkImage(png, 'image/png', limits, 'signature');
    assert.deepEqual({ type: checked.contentType, width: checked.width, height: checked.height }, { type: 'image/png', width: 24, height: 12 });
    assert.equal(checked.sha256, createHash('sha256').update(png).digest('hex'));
    const jpeg = checkImage(jpegImage(40, 30), 'image/jpeg', limits, 'photo');
    assert.deepEqual({ type: jpeg.contentType, width: jpeg.width, height: jpeg.height }, { type: 'image/jpeg', width: 40, height: 30 });
  });

  test('refuses a photo whose bytes are not an image, naming the image', () => {
    const text = Buffer.from('%PDF-1.7 this is a document, not a photo');
    assert.throws(() => checkImage(text, 'image/jpeg', limits, 'photo'), hasCode('proof.image_invalid', /^image refused: photo: not an image: the bytes are neither PNG nor JPEG/));
    assert.throws(() => checkImage(Buffer.alloc(0), 'image/png', limits, 'photo'), hasCode('proof.image_invalid', /photo: empty/));
  });

  test('refuses an image whose declared type does not match its bytes', () => {
    assert.throws(() => checkImage(jpegImage(), 'image/png', limits, 'photo'), hasCode('proof.image_invalid', /declared image\/png but the bytes are image\/jpeg/));
    assert.throws(() => checkImage(pngImage(), 'image/jpeg', limits, 'photo'), hasCode('proof.image_invalid', /declared image\/jpeg but the bytes are image\/png/));
  });

  test('refuses a header declaring too many pixels before decoding (a decompression bomb)', (t) => {
    // The pixel data is 4 × 4: had it been decoded, the refusal would be "does not decode", not "too large".
    const decoder = t.mock.method(PNG.sync, 'read');
    checkImage(pngImage(4, 4), 'image/png', limits, 'photo');
    assert.equal(decoder.mock.callCount(), 1, 'a PNG within the limits is decoded');
    const bomb = pngClaiming(50_000, 50_000);
    assert.throws(() => checkImage(bomb, 'image/png', limits, 'photo'), hasCode('proof.image_too_large', /50000 × 50000 pixels; at most 1000000 pixels/));
    assert.equal(decoder.mock.callCount(), 1, 'refused without handing 2.5 gigapixels to the decoder');
    assert.throws(() => checkImage(jpegClaiming(65_000, 65_000), 'image/jpeg', limits, 'photo'), hasCode('proof.image_too_large', /65000 × 65000 pixels/));
    // Just over the limit is refused; a header claiming exactly the limit goes on to the decoder.
    assert.throws(() => checkImage(pngClaiming(1001, 1000), 'image/png', limits, 'photo'), hasCode('proof.image_too_large'));
    assert.throws(() => checkImage(pngClaiming(1000, 1000), 'image/png', limits, 'photo'), hasCode('proof.image_invalid', /PNG pixel data is \d+ bytes; the header needs 4001000/));
  });

  test('a highly compressible image within the pixel limit still decodes within it', () => {
    const flat = new PNG({ width: 1000, height: 1000 });
    flat.data.fill(255);
    const bytes = PNG.sync.write(flat);
    assert.ok(bytes.length < 10_000);
    assert.equal(checkImage(bytes, 'image/png', limits, 'photo').width, 1000);
  });

  test('refuses images larger than the byte limit', () => {
    const png = pngImage(64, 64);
    assert.throws(() => checkImage(png, 'image/png', { maxBytes: png.length - 1, maxPixels: 1_000_000 }, 'signature'), hasCode('proof.image_too_large', /signature: \d+ bytes; at most/));
  });

  test('refuses a header with zero width', () => {
    assert.throws(() => checkImage(pngClaiming(0, 10), 'image/png', limits, 'photo'), hasCode('proof.image_invalid', /0 × 10 pixels/));
  });

  test('refuses images that do not decode: truncated, corrupted, or with a damaged checksum', () => {
    const png = pngImage(32, 32);
    assert.throws(() => checkImage(png.subarray(0, png.length - 20), 'image/png', limits, 'photo'), hasCode('proof.image_invalid'));
    const corrupted = Buffer.from(png);
    const idat = corrupted.indexOf('IDAT');
    corrupted[idat + 10] = (corrupted[idat + 10] ?? 0) ^ 0xff;
    assert.throws(() => checkImage(corrupted, 'image/png', limits, 'photo'), hasCode('proof.image_invalid', /PNG does not decode/));

    const jpeg = jpegImage(32, 32);
    assert.throws(() => checkImage(jpeg.subarray(0, 40), 'image/jpeg', limits, 'photo'), hasCode('proof.image_invalid'));
    const garbled = Buffer.concat([jpeg.subarray(0, jpeg.indexOf(Buffer.from([0xff, 0xda])) + 20), Buffer.alloc(64, 0xff)]);
    assert.throws(() => checkImage(garbled, 'image/jpeg', limits, 'photo'), hasCode('proof.image_invalid', /JPEG does not decode/));
  });

  test('the decoder\'s message goes to the log, not to the client', () => {
    const png = Buffer.from(pngImage(8, 8));
    png[png.indexOf('IDAT') + 6] = 0;
    assert.throws(
      () => checkImage(png, 'image/png', limits, 'photo'),
      (error: { publicDetail?: string; message: string }) => error.publicDetail === 'photo: PNG does not decode' && error.message.length > 'image refused: photo: PNG does not decode'.length,
    );
  });

  test('refuses a PNG with bytes after its end chunk, and an interlaced PNG', () => {
    assert.throws(() => checkImage(Buffer.concat([pngImage(), Buffer.from('PK\u0003\u0004zip')]), 'image/png', limits, 'photo'), hasCode('proof.image_invalid', /end chunk/));
    const interlaced = Buffer.from(pngImage());
    interlaced[28] = 1;
    assert.throws(() => checkImage(interlaced, 'image/png', limits, 'photo'), hasCode('proof.image_invalid', /interlaced/));
  });

  test('refuses a PNG whose first chunk is not the image header', () => {
    const png = pngImage();
    const body = deflateSync(Buffer.alloc(1));
    const chunk = Buffer.alloc(12 + body.length);
    chunk.writeUInt32BE(body.length, 0);
    chunk.write('tEXt', 4, 'latin1');
    const reordered = Buffer.concat([png.subarray(0, 8), chunk, png.subarray(8)]);
    assert.throws(() => checkImage(reordered, 'image/png', limits, 'photo'), hasCode('proof.image_invalid', /IHDR/));
  });

  test('sniffs the type from the bytes alone', () => {
    assert.equal(sniffImageType(pngImage()), 'image/png');
    assert.equal(sniffImageType(jpegImage()), 'image/jpeg');
    assert.equal(sniffImageType(Buffer.from('GIF89a')), undefined);
    assert.equal(sniffImageType(Buffer.from([0xff, 0xd8])), undefined);
  });

  test('decodes only canonical base64', () => {
    const png = pngImage();
    assert.deepEqual(decodeBase64Image(png.toString('base64'), 'photo'), png);
    assert.throws(() => decodeBase64Image(png.toString('base64').replace(/=+$/, ''), 'photo'), hasCode('proof.image_invalid', /canonical base64/));
    assert.throws(() => decodeBase64Image(png.toString('base64url'), 'photo'), hasCode('proof.image_invalid'));
    // "QR==" and "QQ==" both decode to "A" leniently; only the canonical one is accepted.
    assert.throws(() => decodeBase64Image('QR==', 'photo'), hasCode('proof.image_invalid'));
    assert.deepEqual(decodeBase64Image('QQ==', 'photo'), Buffer.from('A'));
  });
});
