import { createHash } from 'node:crypto';
import type { HubSettings } from '../config/schema.ts';

// The event-log port. The embedded implementation (stream/embedded/, on its
// own SQLite file) and later a NATS JetStream one both satisfy it and pass the
// same contract suite (test/contract/event-log.test.ts).

/**
 * A hub's name and settings: partitions, retention (`retentionMaxBytes` is per
 * partition, in body bytes) and the content rules ingest applies (`schema`,
 * `onInvalid`, `allowNonJson`; see ingest/events.ts). What `hubs.<name>` in
 * the configuration holds, and what createHub takes.
 */
export interface HubSpec extends Readonly<HubSettings> {
  readonly name: string;
}

/** `config`: named in the configuration, which stays authoritative; `api`: created with createHub. */
export type HubOrigin = 'config' | 'api';

export interface HubDefinition extends HubSpec {
  readonly origin: HubOrigin;
  /** When the log first recorded the hub (ISO-8601). */
  readonly createdAt: string;
  /** When its settings last changed (ISO-8601). */
  readonly updatedAt: string;
}

/** What updateHub may change: retention and content rules. `partitions` is accepted only unchanged. */
export type HubChanges = Partial<Readonly<HubSettings>>;

export interface EventInput {
  /** The device (or principal) that sent it; picks the partition. */
  readonly publisher: string;
  readonly contentType: string;
  /** Application properties (string values). */
  readonly properties: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
  /** Client-chosen id: a retried send with the same (publisher, messageId) is stored once. */
  readonly messageId?: string;
}

export interface EventPosition {
  readonly partition: number;
  /** Dense per partition, from 1. */
  readonly sequence: number;
  /** Bytes of body stored in the partition before this event. */
  readonly offset: number;
  /** Server clock, ISO-8601. */
  readonly enqueuedAt: string;
  /** True when the event was a retry of one already stored (the position is the original's). */
  readonly duplicate: boolean;
}

export interface StoredEvent extends EventPosition {
  readonly hub: string;
  readonly publisher: string;
  readonly contentType: string;
  readonly properties: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly messageId: string | null;
}

/** Where to start reading: after nothing (the start), at a sequence, at an offset, or at a time. */
export type ReadFrom = { readonly sequence: number } | { readonly offset: number } | { readonly enqueuedAt: string };

export interface PartitionInfo {
  readonly hub: string;
  readonly partition: number;
  /** 0 when empty. */
  readonly firstSequence: number;
  readonly lastSequence: number;
  readonly lastOffset: number;
  readonly lastEnqueuedAt: string | null;
  readonly bytes: number;
}

export interface Checkpoint {
  readonly hub: string;
  readonly consumerGroup: string;
  readonly partition: number;
  readonly sequence: number;
  readonly offset: number;
  readonly updatedAt: string;
}

export interface RetentionReport {
  readonly deleted: number;
}

export interface EventLog {
  /**
   * Every hub: the configured ones (origin `config`) and those created with
   * createHub (origin `api`). Live: a hub created or changed is here, as its
   * new definition, by the time the call's promise resolves.
   */
  readonly hubs: ReadonlyMap<string, HubDefinition>;
  /**
   * Creates a hub with origin `api` and resolves once it is durable. Refuses a
   * name the log already holds (`hub.name_taken`) and a name or settings the
   * configuration would refuse (`request.invalid`).
   */
  createHub(spec: HubSpec): Promise<HubDefinition>;
  /**
   * Changes a hub created with createHub: retention and content rules. Refuses
   * a configured hub (`hub.configured`: the configuration is authoritative) and
   * a new partition count (`hub.partitions_fixed`: partitionFor would move
   * publishers to other partitions and break their order).
   */
  updateHub(name: string, changes: HubChanges): Promise<HubDefinition>;
  /**
   * Appends events of one hub (any publishers) and resolves once they are
   * durable: the promise is the acknowledgement. Each publisher's events keep
   * their order. Throws RampartError('ingest.unknown_hub') for an unknown hub.
   */
  append(hub: string, events: readonly EventInput[]): Promise<EventPosition[]>;
  /** Events from `from` (inclusive), oldest first, at most `limit`. */
  read(hub: string, partition: number, from: ReadFrom, limit: number): Promise<StoredEvent[]>;
  /** Resolves when the partition's last sequence exceeds `afterSequence`, or when `signal` aborts. */
  waitFor(hub: string, partition: number, afterSequence: number, signal: AbortSignal): Promise<void>;
  partitionInfo(hub: string, partition: number): Promise<PartitionInfo>;
  getCheckpoint(hub: string, consumerGroup: string, partition: number): Promise<Checkpoint | undefined>;
  putCheckpoint(checkpoint: Omit<Checkpoint, 'updatedAt'>): Promise<Checkpoint>;
  /** Deletes events past their hub's time or size limit; never blocks appends for long. */
  enforceRetention(): Promise<RetentionReport>;
  close(): Promise<void>;
}

/**
 * The partition of a publisher: a stable hash (SHA-256 of the UTF-8 id, first
 * four bytes, big-endian) modulo the partition count. Stable across restarts,
 * processes and implementations, so one device's events stay in one order.
 */
export function partitionFor(publisher: string, partitions: number): number {
  return createHash('sha256').update(publisher, 'utf8').digest().readUInt32BE(0) % partitions;
}
