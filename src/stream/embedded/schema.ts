import type { DatabaseSync } from 'node:sqlite';
import type { HubDefinition } from '../event-log.ts';
import type { SerializedError } from './protocol.ts';

// The event log's own SQLite file. Events are keyed by (hub, partition,
// sequence), so appends go to the right-hand edge of one B-tree and a read is
// a range scan; a random key would scatter inserts across the tree.
// enqueued_at is epoch milliseconds (the port speaks ISO-8601; integers
// compare and binary-search cheaply). It never decreases within a partition:
// the writer clamps it to the partition's last value, so both offset and time
// are monotonic in sequence and are searched by bisection on the primary key
// instead of carrying two more indexes on the hot path.

export const SCHEMA_VERSION = 1;

const SCHEMA_V1 = `
CREATE TABLE hubs (
  name TEXT PRIMARY KEY,
  partitions INTEGER NOT NULL,
  created_at TEXT NOT NULL
) STRICT;

CREATE TABLE events (
  hub TEXT NOT NULL,
  partition INTEGER NOT NULL,
  sequence INTEGER NOT NULL,
  offset INTEGER NOT NULL,
  enqueued_at INTEGER NOT NULL,
  publisher TEXT NOT NULL,
  content_type TEXT NOT NULL,
  properties TEXT NOT NULL,
  body BLOB NOT NULL,
  message_id TEXT,
  PRIMARY KEY (hub, partition, sequence)
) STRICT, WITHOUT ROWID;

CREATE UNIQUE INDEX events_by_message_id ON events (hub, publisher, message_id) WHERE message_id IS NOT NULL;

CREATE TABLE checkpoints (
  hub TEXT NOT NULL,
  consumer_group TEXT NOT NULL,
  partition INTEGER NOT NULL,
  sequence INTEGER NOT NULL,
  offset INTEGER NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (hub, consumer_group, partition)
) STRICT, WITHOUT ROWID;
`;

export class SchemaProblem extends Error {
  readonly serialized: SerializedError;

  constructor(serialized: SerializedError) {
    super(serialized.message);
    this.serialized = serialized;
  }
}

/**
 * Creates or checks the schema and records each hub's partition count. A hub
 * whose count changed is refused: partitionFor() would send its publishers to
 * other partitions and break their order.
 */
export function prepareSchema(db: DatabaseSync, path: string, hubs: readonly HubDefinition[], openedAt: string): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (version === 0) {
      db.exec(SCHEMA_V1);
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    } else if (version !== SCHEMA_VERSION) {
      throw new SchemaProblem({
        code: 'storage.unavailable',
        message: `event log ${path} has schema version ${version}; this Rampart reads version ${SCHEMA_VERSION}. Use the Rampart release that wrote it.`,
      });
    }
    const find = db.prepare('SELECT partitions FROM hubs WHERE name = ?');
    const insert = db.prepare('INSERT INTO hubs (name, partitions, created_at) VALUES (?, ?, ?)');
    for (const hub of hubs) {
      const row = find.get(hub.name) as { partitions: number } | undefined;
      if (row === undefined) {
        insert.run(hub.name, hub.partitions, openedAt);
      } else if (row.partitions !== hub.partitions) {
        throw new SchemaProblem({
          code: 'config.invalid',
          message:
            `hubs.${hub.name}.partitions is ${hub.partitions}, but the event log ${path} holds this hub with ${row.partitions} partitions. ` +
            `Changing the count would move publishers between partitions and break their order: set it back to ${row.partitions}, or configure a new hub.`,
        });
      }
    }
    db.exec('COMMIT');
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/**
 * The first sequence in [low, high] whose value is at least `target`, for a
 * value that never decreases with sequence (offset, enqueued_at); `high + 1`
 * when there is none. The range must be dense, which it is: retention only
 * ever deletes a partition's oldest events.
 */
export function firstSequenceAtLeast(low: number, high: number, target: number, valueAt: (sequence: number) => number | undefined): number {
  let lo = low;
  let hi = high + 1;
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const value = valueAt(mid);
    if (value !== undefined && value >= target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export const SQL = {
  first: 'SELECT sequence, offset, enqueued_at FROM events WHERE hub = ? AND partition = ? ORDER BY sequence ASC LIMIT 1',
  last: 'SELECT sequence, offset, enqueued_at, length(body) AS size FROM events WHERE hub = ? AND partition = ? ORDER BY sequence DESC LIMIT 1',
  offsetAt: 'SELECT offset AS value FROM events WHERE hub = ? AND partition = ? AND sequence = ?',
  enqueuedAt: 'SELECT enqueued_at AS value FROM events WHERE hub = ? AND partition = ? AND sequence = ?',
} as const;

export interface EdgeRow {
  readonly sequence: number;
  readonly offset: number;
  readonly enqueued_at: number;
}

export interface LastRow extends EdgeRow {
  readonly size: number;
}
