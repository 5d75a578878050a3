import { RampartError } from '../../kernel/errors.ts';
import type { Checkpoint, EventInput, HubDefinition, ReadFrom } from '../event-log.ts';
import type { EventRecord } from './protocol.ts';

// Checks at the port's edge, on the main thread, before anything reaches the
// writer: a refused call writes nothing.

export const MAX_READ_LIMIT = 1000;
const CONSUMER_GROUP = /^[A-Za-z0-9._-]{1,64}$/;

const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

export function hubOrThrow(hubs: ReadonlyMap<string, HubDefinition>, name: string): HubDefinition {
  const hub = hubs.get(name);
  if (hub === undefined) throw new RampartError('ingest.unknown_hub', `no event hub named ${JSON.stringify(name)} exists`);
  return hub;
}

export function partitionOrThrow(hub: HubDefinition, partition: number): number {
  if (!Number.isSafeInteger(partition) || partition < 0 || partition >= hub.partitions) {
    throw new RampartError('route.not_found', `hub ${hub.name} has no partition ${String(partition)} (it has ${hub.partitions})`);
  }
  return partition;
}

export function readLimitOrThrow(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_READ_LIMIT) {
    throw new RampartError('request.invalid', `read limit must be an integer from 1 to ${MAX_READ_LIMIT}, not ${String(limit)}`, { publicDetail: `limit must be 1 to ${MAX_READ_LIMIT}` });
  }
  return limit;
}

export function readFromOrThrow(from: ReadFrom): ReadFrom {
  const keys = Object.keys(from);
  const valid =
    keys.length === 1 &&
    (('sequence' in from && isCount(from.sequence)) ||
      ('offset' in from && isCount(from.offset)) ||
      ('enqueuedAt' in from && typeof from.enqueuedAt === 'string' && Number.isFinite(Date.parse(from.enqueuedAt))));
  if (!valid) throw new RampartError('request.invalid', `read position must be one of a sequence ≥ 0, an offset ≥ 0 or an ISO-8601 enqueuedAt, not ${JSON.stringify(from)}`);
  return from;
}

export function afterSequenceOrThrow(afterSequence: number): number {
  if (!isCount(afterSequence)) throw new RampartError('request.invalid', `afterSequence must be an integer ≥ 0, not ${String(afterSequence)}`);
  return afterSequence;
}

export function consumerGroupOrThrow(hub: HubDefinition, consumerGroup: string, partition: number): void {
  if (typeof consumerGroup !== 'string' || !CONSUMER_GROUP.test(consumerGroup)) {
    throw new RampartError('request.invalid', `consumer group must match ${CONSUMER_GROUP.source}, not ${JSON.stringify(consumerGroup)}`, { publicDetail: 'invalid consumer group name' });
  }
  if (!Number.isSafeInteger(partition) || partition < 0 || partition >= hub.partitions) {
    throw new RampartError('request.invalid', `hub ${hub.name} has no partition ${String(partition)} (it has ${hub.partitions})`, { publicDetail: 'no such partition' });
  }
}

export function checkpointOrThrow(hub: HubDefinition, checkpoint: Omit<Checkpoint, 'updatedAt'>): void {
  consumerGroupOrThrow(hub, checkpoint.consumerGroup, checkpoint.partition);
  if (!isCount(checkpoint.sequence)) throw new RampartError('request.invalid', `checkpoint sequence must be an integer ≥ 0, not ${String(checkpoint.sequence)}`, { publicDetail: 'invalid sequence' });
  if (!isCount(checkpoint.offset)) throw new RampartError('request.invalid', `checkpoint offset must be an integer ≥ 0, not ${String(checkpoint.offset)}`, { publicDetail: 'invalid offset' });
}

/** The event as the writer stores it; refuses the whole batch on the first malformed event. */
export function eventRecordOrThrow(event: EventInput, index: number): EventRecord {
  const refuse = (why: string) => new RampartError('ingest.invalid_event', `event ${index}: ${why}`, { publicDetail: `event ${index}: ${why}` });
  if (typeof event.publisher !== 'string' || event.publisher.length === 0) throw refuse('publisher must be a non-empty string');
  if (typeof event.contentType !== 'string') throw refuse('contentType must be a string');
  if (!(event.body instanceof Uint8Array)) throw refuse('body must be bytes');
  if (event.messageId !== undefined && (typeof event.messageId !== 'string' || event.messageId.length === 0)) throw refuse('messageId must be a non-empty string');
  const properties: unknown = event.properties;
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) throw refuse('properties must be an object');
  for (const value of Object.values(properties)) {
    if (typeof value !== 'string') throw refuse('property values must be strings');
  }
  // The body is copied into the hand-off buffer to the writer (packing.ts), never cloned with its backing buffer.
  return { publisher: event.publisher, contentType: event.contentType, properties: JSON.stringify(properties), body: event.body, messageId: event.messageId ?? null };
}
