import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { partitionFor, type HubDefinition } from '../event-log.ts';
import type { EventRecord, FromWriter, Head, PositionTuple, SerializedError, ToWriter, WriterOptions, WriterRequest, WriterResult } from './protocol.ts';
import { firstSequenceAtLeast, HUB_SQL, hubInsertValues, hubUpdateValues, prepareSchema, SchemaProblem, SQL, type EdgeRow } from './schema.ts';
import { unpackRequests } from './packing.ts';

// The writer worker: the only connection that writes the event log. Requests
// queue up while a commit is in flight; each turn takes everything queued (up
// to maxGroupEvents) into ONE transaction, so a burst of appends costs one
// fsync, and only then answers every request in the group. The main thread's
// event loop never waits on the disk.

/** Rows deleted per retention transaction; appends queued meanwhile go first. */
const RETENTION_BATCH = 1000;

interface PartitionState {
  readonly hub: string;
  readonly partition: number;
  nextSequence: number;
  nextOffset: number;
  lastEnqueuedAtMs: number;
}

type HubRequest = Extract<WriterRequest, { kind: 'hub' }>;

interface RetentionJob {
  readonly id: number;
  readonly nowMs: number;
  readonly tasks: PartitionState[];
  deleted: number;
}

if (parentPort === null) throw new Error('writer.ts runs only as a worker thread');
const port = parentPort;
const options = workerData as WriterOptions;
const post = (message: FromWriter): void => port.postMessage(message);

class Writer {
  readonly #db: DatabaseSync;
  readonly #hubs = new Map<string, HubDefinition>();
  readonly #state = new Map<string, PartitionState>();
  readonly #partitionCache = new Map<string, number>();
  readonly #insert: StatementSync;
  readonly #insertOnce: StatementSync;
  readonly #original: StatementSync;
  readonly #putCheckpoint: StatementSync;
  readonly #first: StatementSync;
  readonly #offsetAt: StatementSync;
  readonly #enqueuedAt: StatementSync;
  readonly #deleteRange: StatementSync;
  readonly #last: StatementSync;
  readonly #findHub: StatementSync;
  readonly #insertHub: StatementSync;
  readonly #updateHub: StatementSync;

  constructor(db: DatabaseSync, hubs: readonly HubDefinition[]) {
    this.#db = db;
    const columns = 'hub, partition, sequence, offset, enqueued_at, publisher, content_type, properties, body, message_id';
    this.#insert = db.prepare(`INSERT INTO events (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    // Only the message-id index may absorb a conflict: a clash on the primary
    // key means another writer touched the file, and must fail loudly.
    this.#insertOnce = db.prepare(
      `INSERT INTO events (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (hub, publisher, message_id) WHERE message_id IS NOT NULL DO NOTHING`,
    );
    this.#original = db.prepare('SELECT partition, sequence, offset, enqueued_at FROM events WHERE hub = ? AND publisher = ? AND message_id = ?');
    this.#putCheckpoint = db.prepare(
      `INSERT INTO checkpoints (hub, consumer_group, partition, sequence, offset, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (hub, consumer_group, partition) DO UPDATE SET sequence = excluded.sequence, offset = excluded.offset, updated_at = excluded.updated_at`,
    );
    this.#first = db.prepare(SQL.first);
    this.#offsetAt = db.prepare(SQL.offsetAt);
    this.#enqueuedAt = db.prepare(SQL.enqueuedAt);
    this.#deleteRange = db.prepare('DELETE FROM events WHERE hub = ? AND partition = ? AND sequence >= ? AND sequence < ?');
    this.#last = db.prepare(SQL.last);
    this.#findHub = db.prepare(HUB_SQL.find);
    this.#insertHub = db.prepare(HUB_SQL.insert);
    this.#updateHub = db.prepare(`${HUB_SQL.update} AND origin = 'api'`);
    for (const hub of hubs) this.#serve(hub);
  }

  /** Starts serving a hub: its definition, and each partition's next position from the file. */
  #serve(hub: HubDefinition): void {
    this.#hubs.set(hub.name, hub);
    for (let partition = 0; partition < hub.partitions; partition++) {
      const row = this.#last.get(hub.name, partition) as (EdgeRow & { size: number }) | undefined;
      this.#state.set(`${hub.name}\u0000${partition}`, {
        hub: hub.name,
        partition,
        nextSequence: row === undefined ? 1 : row.sequence + 1,
        nextOffset: row === undefined ? 0 : row.offset + row.size,
        lastEnqueuedAtMs: row === undefined ? 0 : row.enqueued_at,
      });
    }
  }

  /**
   * Creates or changes a hub in its own transaction; memory follows only once
   * it has committed, so retention and appends use the new definition from the
   * next turn on.
   */
  changeHub(request: HubRequest): WriterResult {
    const hub = request.definition;
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      if (request.change === 'create') {
        if (this.#findHub.get(hub.name) !== undefined) {
          const why = this.#hubs.has(hub.name) ? '' : ' (a hub removed from the configuration, whose events are kept)';
          const detail = `the event log already holds a hub named ${hub.name}${why}`;
          throw new SchemaProblem({ code: 'hub.name_taken', message: detail, publicDetail: detail });
        }
        this.#insertHub.run(...hubInsertValues(hub));
      } else if (this.#updateHub.run(...hubUpdateValues(hub)).changes === 0) {
        throw new Error(`hub ${hub.name} is not an API-created hub with ${hub.partitions} partitions`);
      }
      this.#db.exec('COMMIT');
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      post({ type: 'log', level: 'warn', message: `event log hub ${request.change} refused`, fields: { hub: hub.name, err: String(error) } });
      return { id: request.id, kind: 'failed', error: toSerialized(error) };
    }
    if (request.change === 'create') this.#serve(hub);
    else this.#hubs.set(hub.name, hub);
    return { id: request.id, kind: 'hub', definition: hub };
  }

  heads(): Head[] {
    return [...this.#state.values()].map((s) => [s.hub, s.partition, s.nextSequence - 1] as const);
  }

  /** Writes the requests in one transaction; on failure, retries each alone so one bad request fails by itself. */
  commitGroup(requests: readonly WriterRequest[]): { results: WriterResult[]; heads: Head[] } {
    const undo = new Map<PartitionState, { nextSequence: number; nextOffset: number; lastEnqueuedAtMs: number }>();
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const results = requests.map((request) => this.#apply(request, undo));
      this.#db.exec('COMMIT');
      return { results, heads: [...undo.keys()].map((s) => [s.hub, s.partition, s.nextSequence - 1] as const) };
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      for (const [state, saved] of undo) Object.assign(state, saved);
      post({ type: 'log', level: 'error', message: 'event log group commit failed', fields: { requests: requests.length, err: String(error) } });
      if (requests.length === 1) return { results: [{ id: requests[0]?.id ?? 0, kind: 'failed', error: toSerialized(error) }], heads: [] };
      const results: WriterResult[] = [];
      const heads: Head[] = [];
      for (const request of requests) {
        const one = this.commitGroup([request]);
        results.push(...one.results);
        heads.push(...one.heads);
      }
      return { results, heads };
    }
  }

  #apply(request: WriterRequest, undo: Map<PartitionState, { nextSequence: number; nextOffset: number; lastEnqueuedAtMs: number }>): WriterResult {
    switch (request.kind) {
      case 'append': {
        const positions: PositionTuple[] = [];
        for (const event of request.events) {
          const state = this.#stateFor(request.hub, event.publisher);
          if (!undo.has(state)) undo.set(state, { nextSequence: state.nextSequence, nextOffset: state.nextOffset, lastEnqueuedAtMs: state.lastEnqueuedAtMs });
          positions.push(this.#appendOne(request.hub, state, event, Math.max(request.enqueuedAtMs, state.lastEnqueuedAtMs)));
        }
        return { id: request.id, kind: 'append', positions };
      }
      case 'checkpoint':
        this.#putCheckpoint.run(request.hub, request.consumerGroup, request.partition, request.sequence, request.offset, request.updatedAt);
        return { id: request.id, kind: 'checkpoint' };
      case 'retention':
        throw new Error('retention requests are not part of a group');
      case 'hub':
        throw new Error('hub changes are not part of a group');
    }
  }

  #appendOne(hub: string, state: PartitionState, event: EventRecord, enqueuedAtMs: number): PositionTuple {
    const values = [hub, state.partition, state.nextSequence, state.nextOffset, enqueuedAtMs, event.publisher, event.contentType, event.properties, event.body, event.messageId] as const;
    if (event.messageId === null) {
      this.#insert.run(...values);
    } else if (this.#insertOnce.run(...values).changes === 0) {
      const original = this.#original.get(hub, event.publisher, event.messageId) as { partition: number; sequence: number; offset: number; enqueued_at: number };
      return [original.partition, original.sequence, original.offset, original.enqueued_at, 1];
    }
    const position: PositionTuple = [state.partition, state.nextSequence, state.nextOffset, enqueuedAtMs, 0];
    state.nextSequence += 1;
    state.nextOffset += event.body.byteLength;
    state.lastEnqueuedAtMs = enqueuedAtMs;
    return position;
  }

  #stateFor(hub: string, publisher: string): PartitionState {
    const cacheKey = `${hub}\u0000${publisher}`;
    let partition = this.#partitionCache.get(cacheKey);
    if (partition === undefined) {
      const definition = this.#hubs.get(hub);
      if (definition === undefined) throw new Error(`unknown hub ${hub}`);
      partition = partitionFor(publisher, definition.partitions);
      if (this.#partitionCache.size >= 100_000) this.#partitionCache.clear();
      this.#partitionCache.set(cacheKey, partition);
    }
    const state = this.#state.get(`${hub}\u0000${partition}`);
    if (state === undefined) throw new Error(`no state for ${hub}/${partition}`);
    return state;
  }

  startRetention(id: number, nowMs: number): RetentionJob {
    return { id, nowMs, tasks: [...this.#state.values()], deleted: 0 };
  }

  /** Deletes at most one batch of the job's current partition; false when the job is done. */
  retentionStep(job: RetentionJob): boolean {
    const state = job.tasks[0];
    if (state === undefined) return false;
    const hub = this.#hubs.get(state.hub);
    const first = this.#first.get(state.hub, state.partition) as EdgeRow | undefined;
    const last = state.nextSequence - 1;
    if (hub === undefined || first === undefined || first.sequence >= last) {
      job.tasks.shift();
      return job.tasks.length > 0;
    }
    const cutoffMs = job.nowMs - hub.retentionHours * 3_600_000;
    const valueAt = (statement: StatementSync) => (sequence: number) => (statement.get(state.hub, state.partition, sequence) as { value: number } | undefined)?.value;
    const keepByAge = firstSequenceAtLeast(first.sequence, last, cutoffMs, valueAt(this.#enqueuedAt));
    const keepBySize = firstSequenceAtLeast(first.sequence, last, state.nextOffset - hub.retentionMaxBytes, valueAt(this.#offsetAt));
    // The newest event always stays: it carries the partition's next sequence and offset across restarts.
    const keepFrom = Math.min(last, Math.max(keepByAge, keepBySize));
    const deleteBelow = Math.min(keepFrom, first.sequence + RETENTION_BATCH);
    if (deleteBelow > first.sequence) {
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        job.deleted += Number(this.#deleteRange.run(state.hub, state.partition, first.sequence, deleteBelow).changes);
        this.#db.exec('COMMIT');
      } catch (error) {
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
        throw error;
      }
    }
    if (deleteBelow >= keepFrom) job.tasks.shift();
    return job.tasks.length > 0;
  }

  close(): void {
    this.#db.close();
  }
}

function toSerialized(error: unknown): SerializedError {
  if (error instanceof SchemaProblem) return error.serialized;
  return { code: 'storage.unavailable', message: `event log write failed: ${error instanceof Error ? error.message : String(error)}` };
}

function openWriter(): Writer {
  mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
  const created = !existsSync(options.path);
  const db = new DatabaseSync(options.path, { timeout: 5000 });
  try {
    // Events can carry fleet positions: owner-only, like the main database directory.
    if (created) chmodSync(options.path, 0o600);
    db.exec('PRAGMA journal_mode = WAL');
    db.exec(`PRAGMA synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    db.exec('PRAGMA trusted_schema = OFF');
    served = prepareSchema(db, options.path, options.hubs, options.openedAt);
    return new Writer(db, served);
  } catch (error) {
    db.close();
    throw error;
  }
}

// --- the loop: appends first, retention in small batches between groups ---

const queue: WriterRequest[] = [];
const retention: RetentionJob[] = [];
let closing = false;
let scheduled = false;
let writer: Writer;
let served: HubDefinition[] = [];

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(pump);
}

function takeGroup(): WriterRequest[] {
  const group: WriterRequest[] = [];
  let events = 0;
  while (queue.length > 0) {
    const next = queue[0];
    if (next === undefined) break;
    if (next.kind === 'retention') {
      queue.shift();
      retention.push(writer.startRetention(next.id, next.nowMs));
      continue;
    }
    // A hub change commits alone, after the appends queued before it.
    if (next.kind === 'hub') break;
    const size = next.kind === 'append' ? next.events.length : 1;
    if (group.length > 0 && events + size > options.maxGroupEvents) break;
    group.push(next);
    queue.shift();
    events += size;
  }
  return group;
}

/** One batch of the oldest retention job; answers the job when it is done. */
function retentionTurn(job: RetentionJob): void {
  let more: boolean;
  try {
    more = !closing && writer.retentionStep(job);
  } catch (error) {
    retention.shift();
    post({ type: 'results', results: [{ id: job.id, kind: 'failed', error: toSerialized(error) }], heads: [] });
    more = true;
  }
  if (!more && retention[0] === job) {
    retention.shift();
    post({ type: 'log', level: 'info', message: 'event log retention finished', fields: { deleted: job.deleted, interrupted: closing } });
    post({ type: 'results', results: [{ id: job.id, kind: 'retention', deleted: job.deleted }], heads: [] });
  }
}

function pump(): void {
  scheduled = false;
  const first = queue[0];
  if (first?.kind === 'hub') {
    queue.shift();
    post({ type: 'results', results: [writer.changeHub(first)], heads: [] });
  } else {
    const group = takeGroup();
    if (group.length > 0) post({ type: 'results', ...writer.commitGroup(group) });
    else if (retention[0] !== undefined) retentionTurn(retention[0]);
  }
  if (queue.length > 0 || retention.length > 0) {
    schedule();
  } else if (closing) {
    writer.close();
    post({ type: 'closed' });
    port.close();
  }
}

try {
  writer = openWriter();
  port.on('message', (message: ToWriter) => {
    if (message.type === 'requests') queue.push(...unpackRequests(message.packed));
    else closing = true;
    schedule();
  });
  post({ type: 'ready', heads: writer.heads(), hubs: served });
} catch (error) {
  post({ type: 'open_failed', error: toSerialized(error) });
  port.close();
}
