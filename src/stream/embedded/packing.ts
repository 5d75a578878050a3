import type { EventRecord, WriterRequest } from './protocol.ts';

// How a turn's requests travel to the writer thread. A structured clone pays
// per object (every event object's property names are written again) and per
// buffer, so appends are flattened into parallel arrays, and every body is
// copied into one buffer that is transferred rather than cloned. Other
// requests travel as they are. `order` keeps the requests' sequence: the writer
// must see a hub change after the appends queued before it.

export interface PackedRequests {
  /** `a` for the next append, `o` for the next other request, in call order. */
  readonly order: string;
  readonly others: readonly Exclude<WriterRequest, { kind: 'append' }>[];
  readonly appendIds: readonly number[];
  readonly hubs: readonly string[];
  readonly enqueuedAtMs: readonly number[];
  /** Events per append. */
  readonly counts: readonly number[];
  readonly publishers: readonly string[];
  readonly contentTypes: readonly string[];
  readonly properties: readonly string[];
  readonly messageIds: readonly (string | null)[];
  /** End of each event's body in `bodies`. */
  readonly bodyEnds: Uint32Array;
  readonly bodies: ArrayBuffer;
}

export function packRequests(requests: readonly WriterRequest[]): { packed: PackedRequests; transfer: ArrayBuffer[] } {
  let order = '';
  const others: Exclude<WriterRequest, { kind: 'append' }>[] = [];
  const appendIds: number[] = [];
  const hubs: string[] = [];
  const enqueuedAtMs: number[] = [];
  const counts: number[] = [];
  const publishers: string[] = [];
  const contentTypes: string[] = [];
  const properties: string[] = [];
  const messageIds: (string | null)[] = [];
  let events = 0;
  let bytes = 0;
  for (const request of requests) {
    if (request.kind !== 'append') continue;
    events += request.events.length;
    for (const event of request.events) bytes += event.body.byteLength;
  }
  const bodies = new Uint8Array(bytes);
  const bodyEnds = new Uint32Array(events);
  let at = 0;
  let index = 0;
  for (const request of requests) {
    if (request.kind !== 'append') {
      order += 'o';
      others.push(request);
      continue;
    }
    order += 'a';
    appendIds.push(request.id);
    hubs.push(request.hub);
    enqueuedAtMs.push(request.enqueuedAtMs);
    counts.push(request.events.length);
    for (const event of request.events) {
      publishers.push(event.publisher);
      contentTypes.push(event.contentType);
      properties.push(event.properties);
      messageIds.push(event.messageId);
      bodies.set(event.body, at);
      at += event.body.byteLength;
      bodyEnds[index++] = at;
    }
  }
  return {
    packed: { order, others, appendIds, hubs, enqueuedAtMs, counts, publishers, contentTypes, properties, messageIds, bodyEnds, bodies: bodies.buffer },
    transfer: [bodies.buffer, bodyEnds.buffer],
  };
}

/** The requests again, in order; bodies are views into the transferred buffer. */
export function unpackRequests(packed: PackedRequests): WriterRequest[] {
  const requests: WriterRequest[] = [];
  let nextOther = 0;
  let nextAppend = 0;
  let event = 0;
  let start = 0;
  for (const kind of packed.order) {
    if (kind === 'o') {
      const other = packed.others[nextOther++];
      if (other === undefined) throw new Error('packed requests: missing request');
      requests.push(other);
      continue;
    }
    const a = nextAppend++;
    const count = packed.counts[a] ?? 0;
    const events: EventRecord[] = [];
    for (let i = 0; i < count; i++, event++) {
      const end = packed.bodyEnds[event] ?? start;
      events.push({
        publisher: packed.publishers[event] ?? '',
        contentType: packed.contentTypes[event] ?? '',
        properties: packed.properties[event] ?? '{}',
        messageId: packed.messageIds[event] ?? null,
        body: new Uint8Array(packed.bodies, start, end - start),
      });
      start = end;
    }
    requests.push({ kind: 'append', id: packed.appendIds[a] ?? 0, hub: packed.hubs[a] ?? '', enqueuedAtMs: packed.enqueuedAtMs[a] ?? 0, events });
  }
  return requests;
}
