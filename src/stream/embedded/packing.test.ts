import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { packRequests, unpackRequests, type PackedRequests } from './packing.ts';
import type { WriterRequest } from './protocol.ts';

const text = fc.string({ maxLength: 12 });
const event = fc.record({
  publisher: text,
  contentType: text,
  properties: text,
  messageId: fc.option(text, { nil: null }),
  body: fc.uint8Array({ maxLength: 64 }),
});
const request: fc.Arbitrary<WriterRequest> = fc.oneof(
  fc.record({ kind: fc.constant('append' as const), id: fc.nat(), hub: text, enqueuedAtMs: fc.nat(), events: fc.array(event, { maxLength: 5 }) }),
  fc.record({ kind: fc.constant('retention' as const), id: fc.nat(), nowMs: fc.nat() }),
);

/** What the writer thread receives: the message after a real structured clone with the transfer list. */
function throughPort(requests: WriterRequest[]): WriterRequest[] {
  const { port1, port2 } = new MessageChannel();
  try {
    const { packed, transfer } = packRequests(requests);
    port1.postMessage(packed, transfer);
    const received = receiveMessageOnPort(port2);
    assert.ok(received !== undefined);
    return unpackRequests(received.message as PackedRequests);
  } finally {
    port1.close();
  }
}

const plain = (requests: WriterRequest[]) => requests.map((r) => (r.kind === 'append' ? { ...r, events: r.events.map((e) => ({ ...e, body: [...e.body] })) } : { ...r }));

describe('writer hand-off packing', () => {
  test('requests arrive in order and unchanged, bodies included, after a real transfer', () => {
    fc.assert(fc.property(fc.array(request, { maxLength: 8 }), (requests) => {
      assert.deepEqual(plain(throughPort(requests)), plain(requests));
    }), { numRuns: 300 });
  });

  test('a body that is a slice of a larger buffer is sent as its own bytes only', () => {
    const socketRead = Buffer.alloc(65_536, 7);
    socketRead.write('{"lat":1}', 1000);
    const body = socketRead.subarray(1000, 1009);
    const { packed } = packRequests([{ kind: 'append', id: 1, hub: 'h', enqueuedAtMs: 0, events: [{ publisher: 'p', contentType: 'application/json', properties: '{}', messageId: null, body }] }]);
    assert.equal(packed.bodies.byteLength, 9);
    const [appended] = unpackRequests(packed);
    assert.equal(appended?.kind === 'append' ? Buffer.from(appended.events[0]?.body ?? []).toString() : '', '{"lat":1}');
  });
});
