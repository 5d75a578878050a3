import type { ErrorCode } from '../../kernel/error-catalog.ts';
import type { Checkpoint, HubDefinition, HubSpec } from '../event-log.ts';
import type { PackedRequests } from './packing.ts';

// Messages between the main thread and the writer worker (writer.ts). Only
// plain data crosses: the worker cannot see the injected clock or the logger,
// so the main thread stamps times and the worker sends its log lines back.

export interface WriterOptions {
  readonly path: string;
  /** The configured hubs, already checked; they overrule what the file holds for the same names. */
  readonly hubs: readonly HubSpec[];
  readonly synchronous: 'full' | 'normal';
  readonly maxGroupEvents: number;
  /** ISO time the hubs table records for a newly created hub. */
  readonly openedAt: string;
}

/** An event already validated by the main thread; properties are JSON text. */
export interface EventRecord {
  readonly publisher: string;
  readonly contentType: string;
  readonly properties: string;
  readonly body: Uint8Array;
  readonly messageId: string | null;
}

export type WriterRequest =
  | { readonly kind: 'append'; readonly id: number; readonly hub: string; readonly enqueuedAtMs: number; readonly events: readonly EventRecord[] }
  | ({ readonly kind: 'checkpoint'; readonly id: number } & Checkpoint)
  | { readonly kind: 'retention'; readonly id: number; readonly nowMs: number }
  /** A hub created or changed at run time; the definition is complete and checked. Committed alone, never inside a group. */
  | { readonly kind: 'hub'; readonly id: number; readonly change: 'create' | 'update'; readonly definition: HubDefinition };

export type ToWriter = { readonly type: 'requests'; readonly packed: PackedRequests } | { readonly type: 'close' };

export interface SerializedError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly publicDetail?: string;
}

/** [partition, sequence, offset, enqueuedAtMs, duplicate 0|1]: tuples keep the structured clone small. */
export type PositionTuple = readonly [number, number, number, number, number];

export type WriterResult =
  | { readonly id: number; readonly kind: 'append'; readonly positions: readonly PositionTuple[] }
  | { readonly id: number; readonly kind: 'checkpoint' }
  | { readonly id: number; readonly kind: 'retention'; readonly deleted: number }
  | { readonly id: number; readonly kind: 'hub'; readonly definition: HubDefinition }
  | { readonly id: number; readonly kind: 'failed'; readonly error: SerializedError };

/** [hub, partition, lastSequence] of every partition a group changed. */
export type Head = readonly [string, number, number];

export type FromWriter =
  /** `hubs`: every hub the log serves, configured ones first (configuration order), then API-created ones. */
  | { readonly type: 'ready'; readonly heads: readonly Head[]; readonly hubs: readonly HubDefinition[] }
  | { readonly type: 'open_failed'; readonly error: SerializedError }
  | { readonly type: 'results'; readonly results: readonly WriterResult[]; readonly heads: readonly Head[] }
  | { readonly type: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly message: string; readonly fields: Record<string, unknown> }
  | { readonly type: 'closed' };
