import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { Checkpoint, PartitionInfo, ReadFrom, StoredEvent } from '../event-log.ts';
import { firstSequenceAtLeast, SQL, type EdgeRow, type LastRow } from './schema.ts';

// The main thread's read connection. WAL lets it read while the writer worker
// commits; each read runs in its own read transaction, so a multi-statement
// read (bisection, then the page) sees one snapshot even if retention deletes
// meanwhile.

interface EventRow {
  readonly partition: number;
  readonly sequence: number;
  readonly offset: number;
  readonly enqueued_at: number;
  readonly publisher: string;
  readonly content_type: string;
  readonly properties: string;
  readonly body: Uint8Array;
  readonly message_id: string | null;
}

export class EventLogReader {
  readonly #db: DatabaseSync;
  readonly #first: StatementSync;
  readonly #last: StatementSync;
  readonly #offsetAt: StatementSync;
  readonly #enqueuedAt: StatementSync;
  readonly #page: StatementSync;
  readonly #checkpoint: StatementSync;

  constructor(path: string) {
    this.#db = new DatabaseSync(path, { timeout: 5000 });
    this.#db.exec('PRAGMA query_only = ON');
    this.#db.exec('PRAGMA trusted_schema = OFF');
    this.#first = this.#db.prepare(SQL.first);
    this.#last = this.#db.prepare(SQL.last);
    this.#offsetAt = this.#db.prepare(SQL.offsetAt);
    this.#enqueuedAt = this.#db.prepare(SQL.enqueuedAt);
    this.#page = this.#db.prepare(
      `SELECT partition, sequence, offset, enqueued_at, publisher, content_type, properties, body, message_id
       FROM events WHERE hub = ? AND partition = ? AND sequence >= ? ORDER BY sequence ASC LIMIT ?`,
    );
    this.#checkpoint = this.#db.prepare('SELECT sequence, offset, updated_at FROM checkpoints WHERE hub = ? AND consumer_group = ? AND partition = ?');
  }

  read(hub: string, partition: number, from: ReadFrom, limit: number): StoredEvent[] {
    return this.#snapshot(() => {
      const start = this.#startSequence(hub, partition, from);
      if (start === undefined) return [];
      const rows = this.#page.all(hub, partition, start, limit) as unknown as EventRow[];
      return rows.map((row) => ({
        hub,
        partition: row.partition,
        sequence: row.sequence,
        offset: row.offset,
        enqueuedAt: new Date(row.enqueued_at).toISOString(),
        duplicate: false,
        publisher: row.publisher,
        contentType: row.content_type,
        properties: JSON.parse(row.properties) as Record<string, string>,
        body: Buffer.from(row.body.buffer, row.body.byteOffset, row.body.byteLength),
        messageId: row.message_id,
      }));
    });
  }

  partitionInfo(hub: string, partition: number): PartitionInfo {
    return this.#snapshot(() => {
      const first = this.#first.get(hub, partition) as EdgeRow | undefined;
      const last = this.#last.get(hub, partition) as LastRow | undefined;
      if (first === undefined || last === undefined) {
        return { hub, partition, firstSequence: 0, lastSequence: 0, lastOffset: 0, lastEnqueuedAt: null, bytes: 0 };
      }
      return {
        hub,
        partition,
        firstSequence: first.sequence,
        lastSequence: last.sequence,
        lastOffset: last.offset,
        lastEnqueuedAt: new Date(last.enqueued_at).toISOString(),
        bytes: last.offset + last.size - first.offset,
      };
    });
  }

  getCheckpoint(hub: string, consumerGroup: string, partition: number): Checkpoint | undefined {
    const row = this.#checkpoint.get(hub, consumerGroup, partition) as { sequence: number; offset: number; updated_at: string } | undefined;
    if (row === undefined) return undefined;
    return { hub, consumerGroup, partition, sequence: row.sequence, offset: row.offset, updatedAt: row.updated_at };
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  /** The first sequence to return, or undefined when nothing qualifies. */
  #startSequence(hub: string, partition: number, from: ReadFrom): number | undefined {
    if ('sequence' in from) return from.sequence;
    const first = this.#first.get(hub, partition) as EdgeRow | undefined;
    const last = this.#last.get(hub, partition) as LastRow | undefined;
    if (first === undefined || last === undefined) return undefined;
    const [target, statement] = 'offset' in from ? [from.offset, this.#offsetAt] : [Date.parse(from.enqueuedAt), this.#enqueuedAt];
    const start = firstSequenceAtLeast(first.sequence, last.sequence, target, (sequence) => (statement.get(hub, partition, sequence) as { value: number } | undefined)?.value);
    return start > last.sequence ? undefined : start;
  }

  #snapshot<T>(body: () => T): T {
    this.#db.exec('BEGIN');
    try {
      return body();
    } finally {
      this.#db.exec('COMMIT');
    }
  }
}
