import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { ManualClock } from '../../kernel/clock.ts';
import { createMemoryLogger } from '../../kernel/logger.ts';
import { hasCode } from '../../../test/support/errors.ts';
import { hubSpec } from '../../../test/support/event-log.ts';
import { tempDir } from '../../../test/support/tmp.ts';
import { partitionFor, type HubSpec } from '../event-log.ts';
import { openEmbeddedEventLog } from './index.ts';
import { SCHEMA_VERSION } from './schema.ts';

// Files written by earlier releases open and are upgraded in place.

/** The layout version 1 wrote (a hub's partition count only), kept here as it was released. */
const LAYOUT_V1 = `
CREATE TABLE hubs (name TEXT PRIMARY KEY, partitions INTEGER NOT NULL, created_at TEXT NOT NULL) STRICT;
CREATE TABLE events (
  hub TEXT NOT NULL, partition INTEGER NOT NULL, sequence INTEGER NOT NULL, offset INTEGER NOT NULL, enqueued_at INTEGER NOT NULL,
  publisher TEXT NOT NULL, content_type TEXT NOT NULL, properties TEXT NOT NULL, body BLOB NOT NULL, message_id TEXT,
  PRIMARY KEY (hub, partition, sequence)
) STRICT, WITHOUT ROWID;
CREATE UNIQUE INDEX events_by_message_id ON events (hub, publisher, message_id) WHERE message_id IS NOT NULL;
CREATE TABLE checkpoints (
  hub TEXT NOT NULL, consumer_group TEXT NOT NULL, partition INTEGER NOT NULL, sequence INTEGER NOT NULL, offset INTEGER NOT NULL, updated_at TEXT NOT NULL,
  PRIMARY KEY (hub, consumer_group, partition)
) STRICT, WITHOUT ROWID;
PRAGMA user_version = 1;
`;

function writeVersion1File(path: string): void {
  const db = new DatabaseSync(path);
  db.exec(LAYOUT_V1);
  const insertHub = db.prepare('INSERT INTO hubs (name, partitions, created_at) VALUES (?, ?, ?)');
  insertHub.run('telemetry', 2, '2026-01-01T00:00:00.000Z');
  insertHub.run('retired', 1, '2026-01-01T00:00:00.000Z');
  const partition = partitionFor('truck-1', 2);
  const insertEvent = db.prepare('INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  for (let sequence = 1; sequence <= 3; sequence++) {
    insertEvent.run('telemetry', partition, sequence, (sequence - 1) * 2, Date.parse('2026-01-01T00:00:00.000Z'), 'truck-1', 'application/json', '{}', Buffer.from('{}'), `m-${sequence}`);
  }
  db.prepare('INSERT INTO checkpoints VALUES (?, ?, ?, ?, ?, ?)').run('telemetry', 'dispatch', partition, 2, 2, '2026-01-01T00:00:00.000Z');
  db.close();
}

test('opens an event log written with layout version 1, keeps its events and stores full hub definitions from then on', async () => {
  const dir = tempDir('rampart-events-v1');
  const path = `${dir.path}/events.db`;
  const clock = new ManualClock('2026-03-01T00:00:00.000Z');
  const open = (hubs: readonly HubSpec[]) => openEmbeddedEventLog({ path, hubs, clock, synchronous: 'full', maxGroupEvents: 100, logger: createMemoryLogger('warn').logger });
  try {
    writeVersion1File(path);
    const configured = hubSpec('telemetry', { retentionHours: 48, schema: 'truck', onInvalid: 'flag' });
    const log = await open([configured]);
    try {
      assert.deepEqual({ ...log.hubs.get('telemetry') }, { ...configured, origin: 'config', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-03-01T00:00:00.000Z' });
      assert.equal(log.hubs.has('retired'), false, 'a hub no longer configured stays unserved');
      const partition = partitionFor('truck-1', 2);
      assert.deepEqual((await log.read('telemetry', partition, { sequence: 1 }, 10)).map((e) => e.messageId), ['m-1', 'm-2', 'm-3']);
      assert.equal((await log.getCheckpoint('telemetry', 'dispatch', partition))?.sequence, 2);
      const [retry, next] = await log.append('telemetry', [
        { publisher: 'truck-1', contentType: 'application/json', properties: {}, body: Buffer.from('{}'), messageId: 'm-2' },
        { publisher: 'truck-1', contentType: 'application/json', properties: {}, body: Buffer.from('{}') },
      ]);
      assert.deepEqual([retry?.sequence, retry?.duplicate, next?.sequence, next?.offset], [2, true, 4, 6]);
      await log.createHub(hubSpec('field', { partitions: 1 }));
      await assert.rejects(log.createHub(hubSpec('retired')), hasCode('hub.name_taken'));
    } finally {
      await log.close();
    }

    const db = new DatabaseSync(path, { readOnly: true });
    const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    const rows = db.prepare('SELECT name, partitions, origin, retention_hours, telemetry_schema, on_invalid, allow_non_json FROM hubs ORDER BY name').all();
    db.close();
    assert.equal(version, SCHEMA_VERSION);
    assert.deepEqual(
      rows.map((row) => ({ ...row })),
      [
        { name: 'field', partitions: 1, origin: 'api', retention_hours: 24, telemetry_schema: 'none', on_invalid: 'refuse', allow_non_json: 0 },
        { name: 'retired', partitions: 1, origin: 'config', retention_hours: 168, telemetry_schema: 'none', on_invalid: 'refuse', allow_non_json: 0 },
        { name: 'telemetry', partitions: 2, origin: 'config', retention_hours: 48, telemetry_schema: 'truck', on_invalid: 'flag', allow_non_json: 0 },
      ],
    );

    const reopened = await open([configured]);
    assert.deepEqual([...reopened.hubs.keys()], ['telemetry', 'field']);
    await reopened.close();
  } finally {
    dir.cleanup();
  }
});

test('refuses an event log written by a newer layout, changing nothing', async () => {
  const dir = tempDir('rampart-events-future');
  const path = `${dir.path}/events.db`;
  try {
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    await assert.rejects(
      openEmbeddedEventLog({ path, hubs: [hubSpec('telemetry')], clock: new ManualClock(), synchronous: 'full', maxGroupEvents: 100, logger: createMemoryLogger('warn').logger }),
      hasCode('storage.unavailable', new RegExp(`version ${SCHEMA_VERSION + 1}`)),
    );
    const after = new DatabaseSync(path, { readOnly: true });
    assert.equal((after.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, SCHEMA_VERSION + 1);
    assert.equal(after.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get()?.['n'], 0);
    after.close();
  } finally {
    dir.cleanup();
  }
});
