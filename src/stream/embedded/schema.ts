import type { DatabaseSync } from 'node:sqlite';
import type { HubDefinition, HubSpec } from '../event-log.ts';
import type { SerializedError } from './protocol.ts';

// The event log's own SQLite file. Events are keyed by (hub, partition,
// sequence), so appends go to the right-hand edge of one B-tree and a read is
// a range scan; a random key would scatter inserts across the tree.
// enqueued_at is epoch milliseconds (the port speaks ISO-8601; integers
// compare and binary-search cheaply). It never decreases within a partition:
// the writer clamps it to the partition's last value, so both offset and time
// are monotonic in sequence and are searched by bisection on the primary key
// instead of carrying two more indexes on the hot path.

export const SCHEMA_VERSION = 2;

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

// Version 2: the hubs table holds each hub's whole definition and its origin,
// so hubs created through the API survive restarts. Version 1 recorded only
// partition counts, and every hub then came from the configuration: the
// defaults below are placeholders that the configuration overwrites, in the
// same transaction, for every hub it still names (one it no longer names is
// not served, so its placeholder settings are never used).
const SCHEMA_V2 = `
ALTER TABLE hubs ADD COLUMN origin TEXT NOT NULL DEFAULT 'config' CHECK (origin IN ('config', 'api'));
ALTER TABLE hubs ADD COLUMN retention_hours INTEGER NOT NULL DEFAULT 168;
ALTER TABLE hubs ADD COLUMN retention_max_bytes INTEGER NOT NULL DEFAULT 1073741824;
ALTER TABLE hubs ADD COLUMN telemetry_schema TEXT NOT NULL DEFAULT 'none';
ALTER TABLE hubs ADD COLUMN on_invalid TEXT NOT NULL DEFAULT 'refuse';
ALTER TABLE hubs ADD COLUMN allow_non_json INTEGER NOT NULL DEFAULT 0 CHECK (allow_non_json IN (0, 1));
ALTER TABLE hubs ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';
UPDATE hubs SET updated_at = created_at;
`;

/** MIGRATIONS[v] takes a file from version v to v + 1. */
const MIGRATIONS: readonly string[] = [SCHEMA_V1, SCHEMA_V2];

export class SchemaProblem extends Error {
  readonly serialized: SerializedError;

  constructor(serialized: SerializedError) {
    super(serialized.message);
    this.serialized = serialized;
  }
}

export interface HubRow {
  readonly name: string;
  readonly partitions: number;
  readonly created_at: string;
  readonly origin: string;
  readonly retention_hours: number;
  readonly retention_max_bytes: number;
  readonly telemetry_schema: string;
  readonly on_invalid: string;
  readonly allow_non_json: number;
  readonly updated_at: string;
}

export const HUB_SQL = {
  find: 'SELECT * FROM hubs WHERE name = ?',
  insert: `INSERT INTO hubs (name, partitions, origin, retention_hours, retention_max_bytes, telemetry_schema, on_invalid, allow_non_json, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  /** Settings by name, only where the partition count is the one given: the count never changes. */
  update: `UPDATE hubs SET origin = ?, retention_hours = ?, retention_max_bytes = ?, telemetry_schema = ?, on_invalid = ?, allow_non_json = ?, updated_at = ?
           WHERE name = ? AND partitions = ?`,
} as const;

export function hubFromRow(row: HubRow): HubDefinition {
  return {
    name: row.name,
    partitions: row.partitions,
    retentionHours: row.retention_hours,
    retentionMaxBytes: row.retention_max_bytes,
    schema: row.telemetry_schema as HubDefinition['schema'],
    onInvalid: row.on_invalid as HubDefinition['onInvalid'],
    allowNonJson: row.allow_non_json === 1,
    origin: row.origin as HubDefinition['origin'],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The values of HUB_SQL.insert for a definition. */
export function hubInsertValues(hub: HubDefinition): [string, number, string, number, number, string, string, number, string, string] {
  return [hub.name, hub.partitions, hub.origin, hub.retentionHours, hub.retentionMaxBytes, hub.schema, hub.onInvalid, hub.allowNonJson ? 1 : 0, hub.createdAt, hub.updatedAt];
}

/** The values of HUB_SQL.update for a definition. */
export function hubUpdateValues(hub: HubDefinition): [string, number, number, string, string, number, string, string, number] {
  return [hub.origin, hub.retentionHours, hub.retentionMaxBytes, hub.schema, hub.onInvalid, hub.allowNonJson ? 1 : 0, hub.updatedAt, hub.name, hub.partitions];
}

const sameSettings = (a: HubDefinition, b: HubSpec): boolean =>
  a.retentionHours === b.retentionHours && a.retentionMaxBytes === b.retentionMaxBytes && a.schema === b.schema && a.onInvalid === b.onInvalid && a.allowNonJson === b.allowNonJson;

/**
 * Creates or upgrades the schema, records the configured hubs and returns
 * every hub to serve: the configured ones (in configuration order), then
 * those created through the API (in creation order). The configuration is
 * authoritative: a configured hub takes its configured settings and origin
 * `config`, even when the API created it first. A hub whose partition count
 * changed is refused: partitionFor() would send its publishers to other
 * partitions and break their order. A hub that left the configuration is not
 * served; its row stays, so its name cannot be reused with another count.
 */
export function prepareSchema(db: DatabaseSync, path: string, hubs: readonly HubSpec[], openedAt: string): HubDefinition[] {
  db.exec('BEGIN IMMEDIATE');
  try {
    const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (version > SCHEMA_VERSION) {
      throw new SchemaProblem({
        code: 'storage.unavailable',
        message: `event log ${path} has schema version ${version}; this Rampart reads versions up to ${SCHEMA_VERSION}. Use the Rampart release that wrote it.`,
      });
    }
    for (let step = version; step < SCHEMA_VERSION; step++) db.exec(MIGRATIONS[step] ?? '');
    if (version !== SCHEMA_VERSION) db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);

    const find = db.prepare(HUB_SQL.find);
    const insert = db.prepare(HUB_SQL.insert);
    const update = db.prepare(HUB_SQL.update);
    const served: HubDefinition[] = [];
    for (const hub of hubs) {
      const row = find.get(hub.name) as HubRow | undefined;
      const configured: HubDefinition = { ...hub, origin: 'config', createdAt: row?.created_at ?? openedAt, updatedAt: openedAt };
      if (row === undefined) {
        insert.run(...hubInsertValues(configured));
        served.push(configured);
        continue;
      }
      const stored = hubFromRow(row);
      if (stored.partitions !== hub.partitions) {
        const how = stored.origin === 'api' ? 'created through the API' : 'recorded';
        throw new SchemaProblem({
          code: 'config.invalid',
          message:
            `hubs.${hub.name}.partitions is ${hub.partitions}, but the event log ${path} holds this hub (${how}) with ${stored.partitions} partitions. ` +
            `Changing the count would move publishers between partitions and break their order: set it back to ${stored.partitions}, or configure a new hub.`,
        });
      }
      if (stored.origin === 'config' && sameSettings(stored, hub)) {
        served.push(stored);
      } else {
        update.run(...hubUpdateValues(configured));
        served.push(configured);
      }
    }
    const names = new Set(hubs.map((hub) => hub.name));
    const created = db.prepare("SELECT * FROM hubs WHERE origin = 'api' ORDER BY created_at, rowid").all() as unknown as HubRow[];
    for (const row of created) if (!names.has(row.name)) served.push(hubFromRow(row));
    db.exec('COMMIT');
    return served;
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
