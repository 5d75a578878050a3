import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { FrameSplitter } from './frames.ts';

/** One MQTT packet: a type byte, the remaining length as a variable-byte integer, the body. */
function frame(type: number, body: Uint8Array): Buffer {
  const length: number[] = [];
  let n = body.length;
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    length.push(byte);
  } while (n > 0);
  return Buffer.concat([Buffer.from([type << 4, ...length]), body]);
}

describe('MQTT frame splitter', () => {
  test('finds the same packets however the stream is cut into reads', () => {
    const frames = fc.array(fc.tuple(fc.integer({ min: 1, max: 14 }), fc.uint8Array({ maxLength: 300 })).map(([type, body]) => frame(type, body)), { maxLength: 8 });
    fc.assert(
      fc.property(frames, fc.array(fc.nat(), { maxLength: 10 }), (packets, cuts) => {
        const stream = Buffer.concat(packets);
        const points = [...new Set(cuts.map((c) => (stream.length === 0 ? 0 : c % stream.length)))].sort((a, b) => a - b);
        const splitter = new FrameSplitter(1000);
        const found: Buffer[] = [];
        let from = 0;
        for (const at of [...points, stream.length]) {
          const { frames: got, problem } = splitter.push(stream.subarray(from, at));
          assert.equal(problem, undefined);
          found.push(...got);
          from = at;
        }
        assert.deepEqual(found.map((f) => f.toString('hex')), packets.map((p) => p.toString('hex')));
      }),
      { numRuns: 500 },
    );
  });

  test('refuses an oversized packet from its header, before its body arrives, and a five-byte length', () => {
    assert.deepEqual(new FrameSplitter(100).push(Buffer.from([0x30, 0x65])), { frames: [], problem: 'too_large' });
    const ok = frame(3, new Uint8Array(10));
    const refused = new FrameSplitter(100).push(Buffer.concat([ok, Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])]));
    assert.equal(refused.problem, 'malformed');
    assert.deepEqual(refused.frames.map((f) => f.toString('hex')), [ok.toString('hex')]);
  });
});
