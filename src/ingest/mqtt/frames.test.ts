import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { generate } from 'mqtt-packet';
import { decodePublish, FrameSplitter } from './frames.ts';

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

describe('MQTT PUBLISH decoder', () => {
  const publishes = fc.record({
    topic: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 80 }).filter((t) => !t.includes('\u0000')),
    payload: fc.uint8Array({ maxLength: 400 }),
    qos: fc.constantFrom(0, 1),
    retain: fc.boolean(),
    dup: fc.boolean(),
    messageId: fc.integer({ min: 1, max: 65535 }),
  });

  test('reads what mqtt-packet writes: topic, payload, QoS, retain and packet identifier', () => {
    fc.assert(
      fc.property(publishes, ({ topic, payload, qos, retain, dup, messageId }) => {
        const bytes = generate({ cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain, dup: qos > 0 && dup, messageId });
        const decoded = decodePublish(bytes);
        assert.ok(decoded !== undefined);
        assert.equal(decoded.topic, topic);
        assert.deepEqual(new Uint8Array(decoded.payload), payload);
        assert.equal(decoded.qos, qos);
        assert.equal(decoded.retain, retain);
        assert.equal(decoded.messageId, qos > 0 ? messageId : undefined);
      }),
      { numRuns: 500 },
    );
  });

  test('refuses QoS 3, DUP on QoS 0, a zero packet identifier, an empty, overrunning, NUL or non-UTF-8 topic', () => {
    const body = (topic: Buffer, rest: number[] = []) => Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 0xff]), topic, Buffer.from(rest)]);
    const ok = frame(3, body(Buffer.from('devices/d1/messages/events/')));
    assert.notEqual(decodePublish(ok), undefined, 'the well-formed packet the cases below spoil');
    const cases: Record<string, Buffer> = {
      'QoS 3': Buffer.from([0x36, ...ok.subarray(1)]),
      'DUP on QoS 0': Buffer.from([0x38, ...ok.subarray(1)]),
      'QoS 1 with packet identifier 0': Buffer.concat([Buffer.from([0x32]), frame(3, body(Buffer.from('a/b'), [0, 0])).subarray(1)]),
      'QoS 1 without a packet identifier': Buffer.concat([Buffer.from([0x32]), frame(3, body(Buffer.from('a/b'))).subarray(1)]),
      'empty topic': frame(3, body(Buffer.alloc(0), [1, 2, 3])),
      'topic longer than the packet': frame(3, Buffer.from([0x00, 0x10, 0x61, 0x62])),
      'no topic length': frame(3, Buffer.from([0x00])),
      'NUL in the topic': frame(3, body(Buffer.from('a\u0000b'))),
      'topic not UTF-8': frame(3, body(Buffer.from([0x61, 0xc3, 0x28]))),
    };
    for (const [name, bytes] of Object.entries(cases)) assert.equal(decodePublish(bytes), undefined, name);
  });
});
