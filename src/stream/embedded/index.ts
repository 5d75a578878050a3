import { Worker } from 'node:worker_threads';
import type { Clock } from '../../kernel/clock.ts';
import { ConfigError, RampartError, StorageError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { Checkpoint, EventInput, EventLog, EventPosition, HubChanges, HubDefinition, HubSpec, PartitionInfo, ReadFrom, RetentionReport, StoredEvent } from '../event-log.ts';
import { changedHub, checkHubSpec } from '../hubs.ts';
import type { FromWriter, Head, SerializedError, ToWriter, WriterOptions, WriterRequest, WriterResult } from './protocol.ts';
import { packRequests } from './packing.ts';
import { EventLogReader } from './reader.ts';
import * as check from './validate.ts';

// The embedded event log: one SQLite file, one writer worker doing group
// commit (writer.ts), reads on this thread (reader.ts). See docs/OPERATIONS.md,
// "Event log durability".

export interface EmbeddedEventLogOptions {
  /** The log's own SQLite file (config `eventLog.path`, default `<dataDir>/events.db`). */
  readonly path: string;
  /** The configured hubs; hubs created through the API are read from the file. */
  readonly hubs: readonly HubSpec[];
  readonly clock: Clock;
  /** `full`: an acknowledged event survives power loss; `normal`: a process crash only. */
  readonly synchronous: 'full' | 'normal';
  /** Most events in one group commit; a single larger append still commits whole. */
  readonly maxGroupEvents: number;
  readonly logger: Logger;
}

interface Pending {
  readonly resolve: (result: WriterResult) => void;
  readonly reject: (error: unknown) => void;
}

interface Waiter {
  readonly afterSequence: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

const key = (hub: string, partition: number) => `${hub}\u0000${partition}`;

function toError(error: SerializedError): RampartError {
  if (error.code === 'config.invalid') return new ConfigError('config.invalid', [error.message]);
  if (error.code.startsWith('storage.')) return new StorageError(error.code, error.message);
  return new RampartError(error.code, error.message, error.publicDetail === undefined ? {} : { publicDetail: error.publicDetail });
}

const unavailable = () => new RampartError('service.unavailable', 'the event log is closed');

class EmbeddedEventLog implements EventLog {
  readonly hubs: ReadonlyMap<string, HubDefinition>;
  /** The same map as `hubs`: changed in place, so every holder of `hubs` sees hubs as they are now. */
  readonly #hubs: Map<string, HubDefinition>;
  readonly #worker: Worker;
  readonly #reader: EventLogReader;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #exited: Promise<void>;
  readonly #pending = new Map<number, Pending>();
  readonly #heads = new Map<string, number>();
  readonly #waiters = new Map<string, Set<Waiter>>();
  #outbox: WriterRequest[] = [];
  #nextId = 1;
  #state: 'open' | 'closing' | 'closed' | 'failed' = 'open';
  /** Hub changes run one after another, each computed from the definition the previous one left. */
  #hubChanges: Promise<unknown> = Promise.resolve();

  constructor(init: { hubs: Map<string, HubDefinition>; worker: Worker; reader: EventLogReader; clock: Clock; logger: Logger; heads: readonly Head[]; exited: Promise<void> }) {
    this.hubs = init.hubs;
    this.#hubs = init.hubs;
    this.#worker = init.worker;
    this.#reader = init.reader;
    this.#clock = init.clock;
    this.#logger = init.logger;
    this.#exited = init.exited;
    for (const [hub, partition, last] of init.heads) this.#heads.set(key(hub, partition), last);
    this.#worker.on('message', (message: FromWriter) => {
      this.#receive(message);
    });
    this.#worker.on('error', (error) => {
      this.#fail(error);
    });
    this.#worker.on('exit', (code) => {
      if (this.#state === 'open') this.#fail(new Error(`event log writer exited with code ${code}`));
    });
    this.#worker.unref();
  }

  async append(hub: string, events: readonly EventInput[]): Promise<EventPosition[]> {
    check.hubOrThrow(this.hubs, hub);
    const records = events.map((event, index) => check.eventRecordOrThrow(event, index));
    if (this.#state !== 'open') throw unavailable();
    if (records.length === 0) return [];
    const result = await this.#submit({ kind: 'append', id: this.#nextId++, hub, enqueuedAtMs: this.#clock.now().getTime(), events: records });
    if (result.kind !== 'append') throw new Error(`unexpected writer result ${result.kind}`);
    // A batch's events share one enqueue time (unless clamped): format each distinct time once.
    let lastMs = Number.NaN;
    let lastIso = '';
    const iso = (ms: number) => (ms === lastMs ? lastIso : ((lastMs = ms), (lastIso = new Date(ms).toISOString())));
    return result.positions.map(([partition, sequence, offset, enqueuedAtMs, duplicate]) => ({
      partition,
      sequence,
      offset,
      enqueuedAt: iso(enqueuedAtMs),
      duplicate: duplicate === 1,
    }));
  }

  read(hub: string, partition: number, from: ReadFrom, limit: number): Promise<StoredEvent[]> {
    return this.#reading(() => {
      check.partitionOrThrow(check.hubOrThrow(this.hubs, hub), partition);
      return this.#reader.read(hub, partition, check.readFromOrThrow(from), check.readLimitOrThrow(limit));
    });
  }

  async waitFor(hub: string, partition: number, afterSequence: number, signal: AbortSignal): Promise<void> {
    check.partitionOrThrow(check.hubOrThrow(this.hubs, hub), partition);
    check.afterSequenceOrThrow(afterSequence);
    if (this.#state !== 'open') throw unavailable();
    if ((this.#heads.get(key(hub, partition)) ?? 0) > afterSequence || signal.aborted) return;
    // Woken by the writer's commit replies (#advance), never by polling.
    await new Promise<void>((resolve, reject) => {
      const waiters = this.#waiters.get(key(hub, partition)) ?? new Set<Waiter>();
      this.#waiters.set(key(hub, partition), waiters);
      const onAbort = () => {
        waiters.delete(waiter);
        resolve();
      };
      const waiter: Waiter = {
        afterSequence,
        resolve: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (error) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      waiters.add(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  partitionInfo(hub: string, partition: number): Promise<PartitionInfo> {
    return this.#reading(() => {
      check.partitionOrThrow(check.hubOrThrow(this.hubs, hub), partition);
      return this.#reader.partitionInfo(hub, partition);
    });
  }

  getCheckpoint(hub: string, consumerGroup: string, partition: number): Promise<Checkpoint | undefined> {
    return this.#reading(() => {
      check.consumerGroupOrThrow(check.hubOrThrow(this.hubs, hub), consumerGroup, partition);
      return this.#reader.getCheckpoint(hub, consumerGroup, partition);
    });
  }

  async putCheckpoint(checkpoint: Omit<Checkpoint, 'updatedAt'>): Promise<Checkpoint> {
    check.checkpointOrThrow(check.hubOrThrow(this.hubs, checkpoint.hub), checkpoint);
    if (this.#state !== 'open') throw unavailable();
    const stored: Checkpoint = {
      hub: checkpoint.hub,
      consumerGroup: checkpoint.consumerGroup,
      partition: checkpoint.partition,
      sequence: checkpoint.sequence,
      offset: checkpoint.offset,
      updatedAt: this.#clock.now().toISOString(),
    };
    await this.#submit({ kind: 'checkpoint', id: this.#nextId++, ...stored });
    return stored;
  }

  createHub(spec: HubSpec): Promise<HubDefinition> {
    return this.#changeHub(() => {
      const checked = checkHubSpec(spec);
      if (this.#hubs.has(checked.name)) {
        const detail = `a hub named ${checked.name} already exists${this.#hubs.get(checked.name)?.origin === 'config' ? ' (in the configuration)' : ''}`;
        throw new RampartError('hub.name_taken', detail, { publicDetail: detail });
      }
      const now = this.#clock.now().toISOString();
      return { change: 'create', definition: { ...checked, origin: 'api', createdAt: now, updatedAt: now } };
    });
  }

  updateHub(name: string, changes: HubChanges): Promise<HubDefinition> {
    return this.#changeHub(() => ({ change: 'update', definition: changedHub(check.hubOrThrow(this.#hubs, name), changes, this.#clock.now().toISOString()) }));
  }

  async enforceRetention(): Promise<RetentionReport> {
    if (this.#state !== 'open') throw unavailable();
    const result = await this.#submit({ kind: 'retention', id: this.#nextId++, nowMs: this.#clock.now().getTime() });
    if (result.kind !== 'retention') throw new Error(`unexpected writer result ${result.kind}`);
    return { deleted: result.deleted };
  }

  async close(): Promise<void> {
    if (this.#state === 'open') {
      // Requests already accepted are written and answered before the worker stops.
      this.#state = 'closing';
      this.#flush();
      this.#worker.ref();
      this.#worker.postMessage({ type: 'close' } satisfies ToWriter);
    }
    await this.#exited;
    this.#reader.close();
    if (this.#state !== 'failed') this.#state = 'closed';
    this.#rejectWaiters(unavailable());
  }

  /** Queues a hub change behind the previous one; `prepare` runs when its turn comes, against the hubs as they are then. */
  #changeHub(prepare: () => { change: 'create' | 'update'; definition: HubDefinition }): Promise<HubDefinition> {
    const run = this.#hubChanges.then(async () => {
      const { change, definition } = prepare();
      if (this.#state !== 'open') throw unavailable();
      const result = await this.#submit({ kind: 'hub', id: this.#nextId++, change, definition });
      if (result.kind !== 'hub') throw new Error(`unexpected writer result ${result.kind}`);
      const stored = Object.freeze({ ...result.definition });
      this.#hubs.set(stored.name, stored);
      return stored;
    });
    this.#hubChanges = run.catch(() => undefined);
    return run;
  }

  /** Runs a synchronous read; `async` turns a refusal into a rejection. */
  async #reading<T>(body: () => T): Promise<T> {
    await Promise.resolve();
    if (this.#state === 'closed' || this.#state === 'failed') throw unavailable();
    return body();
  }

  #submit(request: WriterRequest): Promise<WriterResult> {
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(request.id, { resolve, reject });
      // Calls made in the same turn of the event loop (every request whose
      // bytes arrived in one poll) travel to the worker in one message: each
      // message costs a structured clone and a wake-up of the writer thread.
      if (this.#outbox.length === 0) setImmediate(() => this.#flush());
      this.#outbox.push(request);
    });
  }

  #flush(): void {
    if (this.#outbox.length === 0) return;
    const requests = this.#outbox;
    this.#outbox = [];
    const { packed, transfer } = packRequests(requests);
    this.#worker.postMessage({ type: 'requests', packed } satisfies ToWriter, transfer);
  }

  #receive(message: FromWriter): void {
    switch (message.type) {
      case 'results':
        for (const result of message.results) {
          const pending = this.#pending.get(result.id);
          this.#pending.delete(result.id);
          if (pending === undefined) continue;
          if (result.kind === 'failed') pending.reject(toError(result.error));
          else pending.resolve(result);
        }
        if (this.#pending.size === 0 && this.#state === 'open') this.#worker.unref();
        for (const [hub, partition, last] of message.heads) this.#advance(hub, partition, last);
        return;
      case 'log':
        this.#logger[message.level](message.fields, message.message);
        return;
      case 'ready':
      case 'open_failed':
      case 'closed':
        return;
    }
  }

  #advance(hub: string, partition: number, last: number): void {
    this.#heads.set(key(hub, partition), last);
    const waiters = this.#waiters.get(key(hub, partition));
    if (waiters === undefined) return;
    for (const waiter of waiters) {
      if (last > waiter.afterSequence) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  #fail(error: unknown): void {
    if (this.#state === 'failed' || this.#state === 'closed') return;
    this.#state = 'failed';
    this.#logger.error({ err: error }, 'event log writer stopped');
    const failure = new StorageError('storage.unavailable', `event log writer stopped: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    for (const pending of this.#pending.values()) pending.reject(failure);
    this.#pending.clear();
    this.#rejectWaiters(failure);
  }

  #rejectWaiters(error: Error): void {
    for (const waiters of this.#waiters.values()) for (const waiter of waiters) waiter.reject(error);
    this.#waiters.clear();
  }
}

/**
 * Opens (creating if needed) the embedded event log and starts its writer
 * worker. The configured hubs overrule what the file holds for the same
 * names; hubs created through the API are served too. Refuses a hub whose
 * partition count differs from the one stored (ConfigError 'config.invalid').
 */
export async function openEmbeddedEventLog(options: EmbeddedEventLogOptions): Promise<EventLog> {
  // The configuration's schema checked the settings' ranges; what matters here is what the writer relies on.
  const configured = new Map<string, HubSpec>();
  for (const hub of options.hubs) {
    if (configured.has(hub.name)) throw new ConfigError('config.invalid', [`hub ${hub.name} is defined twice`]);
    if (!Number.isSafeInteger(hub.partitions) || hub.partitions < 1) throw new ConfigError('config.invalid', [`hubs.${hub.name}.partitions must be an integer ≥ 1`]);
    const { name, partitions, retentionHours, retentionMaxBytes, schema, onInvalid, allowNonJson } = hub;
    configured.set(name, { name, partitions, retentionHours, retentionMaxBytes, schema, onInvalid, allowNonJson });
  }
  if (!Number.isSafeInteger(options.maxGroupEvents) || options.maxGroupEvents < 1) throw new ConfigError('config.invalid', ['eventLog.maxGroupEvents must be an integer ≥ 1']);
  const workerData: WriterOptions = {
    path: options.path,
    hubs: [...configured.values()],
    synchronous: options.synchronous,
    maxGroupEvents: options.maxGroupEvents,
    openedAt: options.clock.now().toISOString(),
  };
  const worker = new Worker(new URL('./writer.ts', import.meta.url), { workerData });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const first = await new Promise<FromWriter>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    void exited.then(() => reject(new StorageError('storage.unavailable', `event log writer for ${options.path} exited while opening`)));
  }).catch((error: unknown) => {
    throw error instanceof RampartError ? error : new StorageError('storage.unavailable', `cannot start the event log writer: ${String(error)}`, { cause: error });
  });
  if (first.type !== 'ready') {
    await exited;
    throw first.type === 'open_failed' ? toError(first.error) : new StorageError('storage.unavailable', `event log writer sent ${first.type} while opening`);
  }
  let reader: EventLogReader;
  try {
    reader = new EventLogReader(options.path);
  } catch (error) {
    worker.postMessage({ type: 'close' } satisfies ToWriter);
    await exited;
    throw new StorageError('storage.unavailable', `cannot open event log ${options.path} for reading: ${(error as Error).message}`, { cause: error });
  }
  const hubs = new Map(first.hubs.map((hub) => [hub.name, Object.freeze({ ...hub })]));
  return new EmbeddedEventLog({ hubs, worker, reader, clock: options.clock, logger: options.logger, heads: first.heads, exited });
}
