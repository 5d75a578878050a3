import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock, type Clock } from '../../src/kernel/clock.ts';
import { createMemoryLogger } from '../../src/kernel/logger.ts';
import { openEmbeddedEventLog } from '../../src/stream/embedded/index.ts';
import { partitionFor, type EventInput, type EventLog, type HubDefinition, type HubSpec, type StoredEvent } from '../../src/stream/event-log.ts';
import { serviceSkipReason } from '../support/databases.ts';
import { hasCode } from '../support/errors.ts';
import { tempDir } from '../support/tmp.ts';

// One suite written against the EventLog port, run once per implementation.
// A target hands out empty stores; a store can be opened again after close.

interface EventLogStore {
  open(hubs: readonly HubSpec[], clock: Clock): Promise<EventLog>;
  cleanup(): Promise<void>;
}

interface EventLogTarget {
  readonly name: string;
  /** Why the target cannot run here, or undefined when it can. */
  readonly skip: string | undefined;
  create(): Promise<EventLogStore>;
}

const embeddedTarget: EventLogTarget = {
  name: 'embedded',
  skip: undefined,
  create() {
    const dir = tempDir('rampart-events');
    return Promise.resolve({
      open: (hubs, clock) =>
        openEmbeddedEventLog({ path: `${dir.path}/events.db`, hubs, clock, synchronous: 'full', maxGroupEvents: 5000, logger: createMemoryLogger('warn').logger }),
      cleanup: () => {
        dir.cleanup();
        return Promise.resolve();
      },
    });
  },
};

const EVENT_LOG_TARGETS: readonly EventLogTarget[] = [embeddedTarget];

const HOUR = 3_600_000;

function hub(name: string, overrides: Partial<HubSpec> = {}): HubSpec {
  return { name, partitions: 4, retentionHours: 24, retentionMaxBytes: 1_073_741_824, schema: 'none', onInvalid: 'refuse', allowNonJson: false, ...overrides };
}

/** A hub's name and settings, without what the log adds (origin, times). */
function specOf(definition: HubDefinition | undefined): HubSpec | undefined {
  if (definition === undefined) return undefined;
  const { name, partitions, retentionHours, retentionMaxBytes, schema, onInvalid, allowNonJson } = definition;
  return { name, partitions, retentionHours, retentionMaxBytes, schema, onInvalid, allowNonJson };
}

function event(publisher: string, n: number, overrides: Partial<EventInput> = {}): EventInput {
  return { publisher, contentType: 'application/json', properties: { n: String(n) }, body: Buffer.from(JSON.stringify({ publisher, n })), ...overrides };
}

function bytes(size: number): Buffer {
  return Buffer.alloc(size, 0x61);
}

/** Every stored event of a partition, oldest first. */
async function readAll(log: EventLog, hubName: string, partition: number): Promise<StoredEvent[]> {
  const all: StoredEvent[] = [];
  for (;;) {
    const page = await log.read(hubName, partition, { sequence: (all.at(-1)?.sequence ?? 0) + 1 }, 1000);
    all.push(...page);
    if (page.length < 1000) return all;
  }
}

/** A publisher name that lands in `partition`. */
function publisherIn(partition: number, partitions: number, prefix = 'dev'): string {
  for (let i = 0; ; i++) if (partitionFor(`${prefix}-${i}`, partitions) === partition) return `${prefix}-${i}`;
}

for (const target of EVENT_LOG_TARGETS) {
  describe(`event log contract: ${target.name}`, { skip: serviceSkipReason(target.skip) }, () => {
    /** Opens a fresh store with `hubs`, runs `body`, then closes and removes it. */
    async function withLog(hubs: readonly HubSpec[], body: (log: EventLog, clock: ManualClock, store: EventLogStore) => Promise<void>): Promise<void> {
      const store = await target.create();
      const clock = new ManualClock('2026-03-01T00:00:00.000Z');
      const log = await store.open(hubs, clock);
      try {
        await body(log, clock, store);
      } finally {
        await log.close();
        await store.cleanup();
      }
    }

    test('assigns dense, ordered sequences and byte offsets per partition, by the publisher hash', async () => {
      await withLog([hub('telemetry')], async (log) => {
        const batch = Array.from({ length: 40 }, (_, i) => event(`truck-${i % 7}`, i, { body: bytes(10 + i) }));
        const positions = await log.append('telemetry', batch);
        assert.equal(positions.length, batch.length);
        const expected = new Map<number, { sequence: number; offset: number }>();
        positions.forEach((position, i) => {
          const input = batch[i]!;
          assert.equal(position.partition, partitionFor(input.publisher, 4));
          const next = expected.get(position.partition) ?? { sequence: 1, offset: 0 };
          assert.equal(position.sequence, next.sequence);
          assert.equal(position.offset, next.offset);
          assert.equal(position.duplicate, false);
          assert.equal(position.enqueuedAt, '2026-03-01T00:00:00.000Z');
          expected.set(position.partition, { sequence: next.sequence + 1, offset: next.offset + input.body.byteLength });
        });
        for (const [partition, next] of expected) {
          const info = await log.partitionInfo('telemetry', partition);
          assert.deepEqual(
            { first: info.firstSequence, last: info.lastSequence, bytes: info.bytes },
            { first: 1, last: next.sequence - 1, bytes: next.offset },
          );
          const stored = await readAll(log, 'telemetry', partition);
          assert.deepEqual(stored.map((e) => e.sequence), Array.from({ length: next.sequence - 1 }, (_, i) => i + 1));
        }
      });
    });

    test('keeps each publisher in one partition and in call order under 50 concurrent appends', async () => {
      await withLog([hub('telemetry')], async (log) => {
        const counters = new Map<string, number>();
        const calls = Array.from({ length: 50 }, (_, call) => {
          const events = Array.from({ length: 1 + (call % 5) }, (_, j) => {
            const publisher = `drone-${(call + j) % 9}`;
            const n = counters.get(publisher) ?? 0;
            counters.set(publisher, n + 1);
            return event(publisher, n);
          });
          return log.append('telemetry', events);
        });
        await Promise.all(calls);
        const seen = new Map<string, { partition: number; n: number }>();
        for (let partition = 0; partition < 4; partition++) {
          for (const stored of await readAll(log, 'telemetry', partition)) {
            const n = Number(stored.properties['n']);
            const previous = seen.get(stored.publisher);
            assert.equal(stored.partition, partitionFor(stored.publisher, 4));
            assert.equal(n, previous === undefined ? 0 : previous.n + 1, `${stored.publisher} out of order`);
            seen.set(stored.publisher, { partition, n });
          }
        }
        for (const [publisher, count] of counters) assert.equal((seen.get(publisher)?.n ?? -1) + 1, count, publisher);
      });
    });

    test('reads from a sequence, an offset or a time, inclusive and limited', async () => {
      await withLog([hub('telemetry', { partitions: 1 })], async (log, clock) => {
        for (let i = 0; i < 10; i++) {
          await log.append('telemetry', [event('truck-1', i, { body: bytes(100), properties: { n: String(i), kind: 'gps' }, messageId: `m-${i}` })]);
          clock.advance(60_000);
        }
        const fromSequence = await log.read('telemetry', 0, { sequence: 4 }, 3);
        assert.deepEqual(fromSequence.map((e) => e.sequence), [4, 5, 6]);
        const first = fromSequence[0]!;
        assert.deepEqual(
          { hub: first.hub, publisher: first.publisher, contentType: first.contentType, properties: first.properties, messageId: first.messageId, offset: first.offset, size: first.body.length },
          { hub: 'telemetry', publisher: 'truck-1', contentType: 'application/json', properties: { n: '3', kind: 'gps' }, messageId: 'm-3', offset: 300, size: 100 },
        );
        assert.deepEqual((await log.read('telemetry', 0, { offset: 700 }, 10)).map((e) => e.sequence), [8, 9, 10]);
        assert.deepEqual((await log.read('telemetry', 0, { offset: 650 }, 10)).map((e) => e.sequence), [8, 9, 10], 'an offset inside an event starts at the next one');
        assert.deepEqual((await log.read('telemetry', 0, { enqueuedAt: '2026-03-01T00:07:00.000Z' }, 10)).map((e) => e.sequence), [8, 9, 10]);
        assert.deepEqual((await log.read('telemetry', 0, { enqueuedAt: '2026-03-01T00:06:30.000Z' }, 1)).map((e) => e.sequence), [8]);
        assert.deepEqual(await log.read('telemetry', 0, { sequence: 11 }, 10), []);
        assert.deepEqual(await log.read('telemetry', 0, { offset: 1000 }, 10), []);
        assert.deepEqual(await log.read('telemetry', 0, { enqueuedAt: '2027-01-01T00:00:00.000Z' }, 10), []);
        assert.equal((await log.read('telemetry', 0, { sequence: 0 }, 1000)).length, 10);
        await assert.rejects(log.read('telemetry', 0, { sequence: 1 }, 1001), hasCode('request.invalid'));
        await assert.rejects(log.read('telemetry', 0, { sequence: 1 }, 0), hasCode('request.invalid'));
        await assert.rejects(log.read('telemetry', 0, { sequence: -1 }, 10), hasCode('request.invalid'));
        await assert.rejects(log.read('telemetry', 0, { enqueuedAt: 'yesterday' }, 10), hasCode('request.invalid'));
      });
    });

    test('waitFor resolves when a later append passes the sequence, and returns on abort', async () => {
      await withLog([hub('telemetry', { partitions: 1 }), hub('other', { partitions: 1 })], async (log) => {
        await log.append('telemetry', [event('truck-1', 0)]);
        await log.waitFor('telemetry', 0, 0, new AbortController().signal);

        const controller = new AbortController();
        let woke = false;
        const waiting = log.waitFor('telemetry', 0, 1, controller.signal).then(() => (woke = true));
        // Proof that the log has moved on: a waiter registered after this one, on another hub, wakes on its append.
        const later = log.waitFor('other', 0, 0, new AbortController().signal);
        await log.append('other', [event('truck-1', 0)]);
        await later;
        assert.equal(woke, false, 'nothing past sequence 1 yet');
        await log.append('telemetry', [event('truck-1', 1)]);
        await waiting;
        assert.equal(woke, true);

        const aborted = new AbortController();
        const idle = log.waitFor('telemetry', 0, 2, aborted.signal);
        aborted.abort();
        await idle;
        assert.equal((await log.partitionInfo('telemetry', 0)).lastSequence, 2);
        await log.waitFor('telemetry', 0, 5, AbortSignal.abort());
      });
    });

    test('stores a retried messageId once and returns the original position, also within one batch', async () => {
      await withLog([hub('telemetry')], async (log) => {
        const [original] = await log.append('telemetry', [event('truck-1', 0, { messageId: 'msg-1' })]);
        const [retry] = await log.append('telemetry', [event('truck-1', 0, { messageId: 'msg-1', body: bytes(5) })]);
        assert.deepEqual(retry, { ...original, duplicate: true });

        const batch = await log.append('telemetry', [
          event('truck-1', 1, { messageId: 'msg-2' }),
          event('truck-1', 1, { messageId: 'msg-2' }),
          event('truck-2', 0, { messageId: 'msg-2' }),
          event('truck-1', 2),
          event('truck-1', 2),
        ]);
        assert.deepEqual(batch[1], { ...batch[0], duplicate: true });
        assert.equal(batch[2]!.duplicate, false, 'the same id from another publisher is another event');
        assert.equal(batch[3]!.duplicate, false);
        assert.equal(batch[4]!.duplicate, false, 'events without a messageId are never deduplicated');

        const partition = partitionFor('truck-1', 4);
        const stored = (await readAll(log, 'telemetry', partition)).filter((e) => e.publisher === 'truck-1');
        assert.deepEqual(stored.map((e) => e.messageId), ['msg-1', 'msg-2', null, null]);
        assert.deepEqual(stored.map((e) => e.sequence), [original!.sequence, batch[0]!.sequence, batch[3]!.sequence, batch[4]!.sequence]);
      });
    });

    test('stores checkpoints and refuses bad ones without changing the stored one', async () => {
      await withLog([hub('telemetry')], async (log, clock) => {
        assert.equal(await log.getCheckpoint('telemetry', 'dispatch', 1), undefined);
        const put = await log.putCheckpoint({ hub: 'telemetry', consumerGroup: 'dispatch', partition: 1, sequence: 7, offset: 700 });
        assert.deepEqual(put, { hub: 'telemetry', consumerGroup: 'dispatch', partition: 1, sequence: 7, offset: 700, updatedAt: '2026-03-01T00:00:00.000Z' });
        assert.deepEqual(await log.getCheckpoint('telemetry', 'dispatch', 1), put);
        clock.advance(1000);
        const moved = await log.putCheckpoint({ hub: 'telemetry', consumerGroup: 'dispatch', partition: 1, sequence: 9, offset: 900 });
        assert.deepEqual(await log.getCheckpoint('telemetry', 'dispatch', 1), moved);
        assert.equal(await log.getCheckpoint('telemetry', 'dispatch', 2), undefined, 'per partition');
        assert.equal(await log.getCheckpoint('telemetry', 'billing', 1), undefined, 'per consumer group');

        const good = { hub: 'telemetry', consumerGroup: 'dispatch', partition: 1, sequence: 10, offset: 1000 };
        for (const bad of [
          { ...good, sequence: -1 },
          { ...good, sequence: 1.5 },
          { ...good, offset: -5 },
          { ...good, consumerGroup: '' },
          { ...good, consumerGroup: 'has space' },
          { ...good, consumerGroup: 'x'.repeat(65) },
          { ...good, partition: 4 },
          { ...good, partition: -1 },
        ]) {
          await assert.rejects(log.putCheckpoint(bad), hasCode('request.invalid'), JSON.stringify(bad));
        }
        await assert.rejects(log.putCheckpoint({ ...good, hub: 'nope' }), hasCode('ingest.unknown_hub'));
        await assert.rejects(log.getCheckpoint('telemetry', 'bad name', 1), hasCode('request.invalid'));
        assert.deepEqual(await log.getCheckpoint('telemetry', 'dispatch', 1), moved, 'nothing changed');
      });
    });

    test('retention by age deletes only expired events and never the newest', async () => {
      await withLog([hub('aged', { partitions: 1, retentionHours: 1 })], async (log, clock) => {
        for (let i = 0; i < 5; i++) await log.append('aged', [event('truck-1', i)]);
        clock.advance(HOUR / 2);
        await log.append('aged', [event('truck-1', 5), event('truck-1', 6)]);
        clock.advance((3 * HOUR) / 4);
        assert.deepEqual(await log.enforceRetention(), { deleted: 5 });
        assert.deepEqual((await readAll(log, 'aged', 0)).map((e) => e.sequence), [6, 7]);
        assert.deepEqual(await log.enforceRetention(), { deleted: 0 });

        clock.advance(10 * HOUR);
        assert.deepEqual(await log.enforceRetention(), { deleted: 1 });
        const info = await log.partitionInfo('aged', 0);
        assert.deepEqual([info.firstSequence, info.lastSequence], [7, 7], 'the newest event stays, so positions continue');
        const [next] = await log.append('aged', [event('truck-1', 7)]);
        assert.equal(next!.sequence, 8);
      });
    });

    test('retention by size deletes the oldest events beyond the partition limit, never the newest', async () => {
      await withLog([hub('sized', { partitions: 1, retentionMaxBytes: 1000 })], async (log) => {
        for (let i = 0; i < 30; i++) await log.append('sized', [event('truck-1', i, { body: bytes(100) })]);
        assert.deepEqual(await log.enforceRetention(), { deleted: 20 });
        const info = await log.partitionInfo('sized', 0);
        assert.deepEqual({ first: info.firstSequence, last: info.lastSequence, bytes: info.bytes, lastOffset: info.lastOffset }, { first: 21, last: 30, bytes: 1000, lastOffset: 2900 });
        assert.deepEqual((await log.read('sized', 0, { sequence: 1 }, 10)).map((e) => e.sequence)[0], 21, 'reading from before the first kept event starts at it');

        await log.append('sized', [event('truck-1', 30, { body: bytes(5000) })]);
        assert.deepEqual(await log.enforceRetention(), { deleted: 10 });
        const after = await log.partitionInfo('sized', 0);
        assert.deepEqual({ first: after.firstSequence, last: after.lastSequence, bytes: after.bytes }, { first: 31, last: 31, bytes: 5000 });
      });
    });

    test('keeps acknowledging appends while retention works through a large backlog', async () => {
      await withLog([hub('busy', { partitions: 2, retentionHours: 1 })], async (log, clock) => {
        const old = Array.from({ length: 1000 }, (_, i) => event(`truck-${i % 10}`, i, { body: bytes(20) }));
        for (let round = 0; round < 20; round++) await log.append('busy', old);
        clock.advance(2 * HOUR);
        const cutoff = clock.now().getTime() - HOUR;

        let retentionDone = false;
        const retention = log.enforceRetention().then((report) => {
          retentionDone = true;
          return report;
        });
        await new Promise((resolve) => setImmediate(resolve));
        const fresh = [publisherIn(0, 2), publisherIn(1, 2)];
        const acknowledged = await log.append('busy', [event(fresh[0]!, 0), event(fresh[1]!, 0)]);
        assert.equal(retentionDone, false, 'the append was not held behind the whole retention run');
        const more = await Promise.all(Array.from({ length: 20 }, (_, i) => log.append('busy', [event(fresh[i % 2]!, 1 + i)])));
        const report = await retention;

        let remainingOld = 0;
        for (let partition = 0; partition < 2; partition++) {
          const stored = await readAll(log, 'busy', partition);
          const oldHere = stored.filter((e) => Date.parse(e.enqueuedAt) < cutoff).length;
          assert.ok(oldHere <= 1, `partition ${partition} kept ${oldHere} expired events`);
          remainingOld += oldHere;
          const sequences = stored.map((e) => e.sequence);
          assert.deepEqual(sequences, Array.from({ length: sequences.length }, (_, i) => sequences[0]! + i), 'dense');
        }
        assert.equal(report.deleted + remainingOld, 20_000);
        for (const position of [...acknowledged, ...more.flat()]) {
          const [stored] = await log.read('busy', position.partition, { sequence: position.sequence }, 1);
          assert.equal(stored?.sequence, position.sequence);
          assert.ok(fresh.includes(stored.publisher));
        }
      });
    });

    test('refuses unknown hubs, missing partitions and malformed events, writing nothing', async () => {
      await withLog([hub('telemetry')], async (log) => {
        const signal = new AbortController().signal;
        await assert.rejects(log.append('nope', [event('truck-1', 0)]), hasCode('ingest.unknown_hub'));
        await assert.rejects(log.read('nope', 0, { sequence: 1 }, 10), hasCode('ingest.unknown_hub'));
        await assert.rejects(log.partitionInfo('nope', 0), hasCode('ingest.unknown_hub'));
        await assert.rejects(log.waitFor('nope', 0, 0, signal), hasCode('ingest.unknown_hub'));
        await assert.rejects(log.getCheckpoint('nope', 'dispatch', 0), hasCode('ingest.unknown_hub'));
        for (const partition of [4, -1, 1.5]) {
          await assert.rejects(log.read('telemetry', partition, { sequence: 1 }, 10), hasCode('route.not_found'));
          await assert.rejects(log.partitionInfo('telemetry', partition), hasCode('route.not_found'));
          await assert.rejects(log.waitFor('telemetry', partition, 0, signal), hasCode('route.not_found'));
        }
        const malformed = { ...event('truck-1', 1), properties: { n: 1 } } as unknown as EventInput;
        await assert.rejects(log.append('telemetry', [event('truck-1', 0), malformed]), hasCode('ingest.invalid_event', /event 1/));
        await assert.rejects(log.append('telemetry', [event('', 0)]), hasCode('ingest.invalid_event'));
        for (let partition = 0; partition < 4; partition++) assert.equal((await log.partitionInfo('telemetry', partition)).lastSequence, 0);
        assert.deepEqual(await log.append('telemetry', []), []);
      });
    });

    test('continues sequences and deduplication after close and reopen, and refuses use after close', async () => {
      const store = await target.create();
      const clock = new ManualClock();
      try {
        const hubs = [hub('telemetry', { partitions: 2 })];
        const first = await store.open(hubs, clock);
        const before = await first.append('telemetry', [event('truck-1', 0, { messageId: 'a' }), event('truck-1', 1, { body: bytes(50) })]);
        await first.putCheckpoint({ hub: 'telemetry', consumerGroup: 'dispatch', partition: 0, sequence: 1, offset: 0 });
        await first.close();
        await assert.rejects(first.append('telemetry', [event('truck-1', 2)]), hasCode('service.unavailable'));
        await assert.rejects(first.read('telemetry', 0, { sequence: 1 }, 1), hasCode('service.unavailable'));
        await assert.rejects(first.enforceRetention(), hasCode('service.unavailable'));

        const second = await store.open(hubs, clock);
        try {
          const [next] = await second.append('telemetry', [event('truck-1', 2)]);
          assert.deepEqual([next!.sequence, next!.offset], [3, before[1]!.offset + 50]);
          const [retry] = await second.append('telemetry', [event('truck-1', 0, { messageId: 'a' })]);
          assert.deepEqual(retry, { ...before[0], duplicate: true });
          assert.equal((await second.getCheckpoint('telemetry', 'dispatch', 0))?.sequence, 1);
        } finally {
          await second.close();
        }
      } finally {
        await store.cleanup();
      }
    });

    test('refuses to open when a hub\'s partition count changed', async () => {
      const store = await target.create();
      try {
        const log = await store.open([hub('telemetry', { partitions: 4 })], new ManualClock());
        await log.append('telemetry', [event('truck-1', 0)]);
        await log.close();
        await assert.rejects(store.open([hub('telemetry', { partitions: 8 })], new ManualClock()), hasCode('config.invalid', /telemetry/, /4 partitions/));
        const again = await store.open([hub('telemetry', { partitions: 4 }), hub('other', { partitions: 2 })], new ManualClock());
        assert.equal((await again.partitionInfo('telemetry', partitionFor('truck-1', 4))).lastSequence, 1);
        await again.close();
      } finally {
        await store.cleanup();
      }
    });

    test('creates a hub at run time: in the live hubs map at once, appendable, and kept with origin api across reopen', async () => {
      const store = await target.create();
      const clock = new ManualClock('2026-03-01T00:00:00.000Z');
      try {
        const configured = [hub('telemetry')];
        const log = await store.open(configured, clock);
        const hubs = log.hubs;
        assert.deepEqual({ ...hubs.get('telemetry') }, { ...configured[0], origin: 'config', createdAt: '2026-03-01T00:00:00.000Z', updatedAt: '2026-03-01T00:00:00.000Z' });
        clock.advance(60_000);
        const spec = hub('field', { partitions: 2, retentionHours: 12, retentionMaxBytes: 2_097_152, schema: 'truck', onInvalid: 'flag', allowNonJson: true });
        const created = await log.createHub(spec);
        assert.deepEqual({ ...created }, { ...spec, origin: 'api', createdAt: '2026-03-01T00:01:00.000Z', updatedAt: '2026-03-01T00:01:00.000Z' });
        assert.deepEqual(hubs.get('field'), created, 'the map handed out before the call shows the new hub');
        assert.deepEqual([...log.hubs.keys()], ['telemetry', 'field']);
        const [position] = await log.append('field', [event('truck-1', 0)]);
        assert.equal(position?.partition, partitionFor('truck-1', 2));
        await log.close();

        const again = await store.open(configured, clock);
        try {
          assert.deepEqual(again.hubs.get('field'), created, 'an API-created hub comes back from the log itself');
          const [next] = await again.append('field', [event('truck-1', 1)]);
          assert.deepEqual([next?.partition, next?.sequence], [position.partition, 2]);
          assert.equal((await again.read('field', position.partition, { sequence: 1 }, 10)).length, 2);
        } finally {
          await again.close();
        }
      } finally {
        await store.cleanup();
      }
    });

    test('refuses a hub whose name exists or that the configuration would refuse, creating nothing', async () => {
      const store = await target.create();
      const clock = new ManualClock();
      try {
        const log = await store.open([hub('telemetry')], clock);
        await log.createHub(hub('field'));
        const before = JSON.stringify([...log.hubs]);
        await assert.rejects(log.createHub(hub('telemetry', { partitions: 2 })), hasCode('hub.name_taken', /telemetry/));
        await assert.rejects(log.createHub(hub('field')), hasCode('hub.name_taken', /field/));
        for (const name of ['', 'Upper', '1st', '-dash', 'has space', '../up', 'x'.repeat(51), 'caf\u00e9', 'a_b']) {
          await assert.rejects(log.createHub(hub(name)), hasCode('request.invalid', /hub name/), JSON.stringify(name));
        }
        const bad: Array<[Record<string, unknown>, RegExp]> = [
          [{ partitions: 0 }, /partitions/],
          [{ partitions: 65 }, /partitions/],
          [{ partitions: 1.5 }, /partitions/],
          [{ retentionHours: 0 }, /retentionHours/],
          [{ retentionHours: 8761 }, /retentionHours/],
          [{ retentionMaxBytes: 1000 }, /retentionMaxBytes/],
          [{ schema: 'bus' }, /schema must be one of "drone", "truck", "none"/],
          [{ onInvalid: 'ignore' }, /onInvalid/],
          [{ allowNonJson: 'yes' }, /allowNonJson/],
          [{ colour: 'red' }, /unknown hub setting "colour"/],
          [{ origin: 'config' }, /unknown hub setting "origin"/],
        ];
        for (const [overrides, why] of bad) {
          await assert.rejects(log.createHub({ ...hub('other'), ...overrides }), hasCode('request.invalid', why), JSON.stringify(overrides));
        }
        const incomplete: Record<string, unknown> = { ...hub('other') };
        delete incomplete['allowNonJson'];
        await assert.rejects(log.createHub(incomplete as unknown as HubSpec), hasCode('request.invalid', /allowNonJson/));
        const race = await Promise.allSettled([log.createHub(hub('dup')), log.createHub(hub('dup', { partitions: 8 }))]);
        assert.deepEqual(race.map((r) => r.status), ['fulfilled', 'rejected'], 'one of two concurrent creates wins');
        assert.equal(log.hubs.get('dup')?.partitions, 4);
        const after = JSON.parse(JSON.stringify([...log.hubs])) as Array<[string, unknown]>;
        assert.deepEqual(JSON.stringify(after.filter(([name]) => name !== 'dup')), before, 'refused creates changed nothing');
        await log.close();
        const reopened = await store.open([hub('telemetry')], clock);
        assert.deepEqual([...reopened.hubs.keys()], ['telemetry', 'field', 'dup'], 'nothing refused was written');
        await reopened.close();
      } finally {
        await store.cleanup();
      }
    });

    test('changes an API-created hub\'s retention and content rules, never its partition count, never a configured hub', async () => {
      const store = await target.create();
      const clock = new ManualClock('2026-03-01T00:00:00.000Z');
      try {
        const log = await store.open([hub('telemetry')], clock);
        const created = await log.createHub(hub('field', { partitions: 2 }));
        clock.advance(1000);
        const changed = await log.updateHub('field', { retentionHours: 2, retentionMaxBytes: 4_194_304, schema: 'drone', onInvalid: 'flag', allowNonJson: true });
        assert.deepEqual({ ...changed }, {
          ...created,
          retentionHours: 2,
          retentionMaxBytes: 4_194_304,
          schema: 'drone',
          onInvalid: 'flag',
          allowNonJson: true,
          updatedAt: '2026-03-01T00:00:01.000Z',
        });
        assert.deepEqual(log.hubs.get('field'), changed);
        assert.equal((await log.updateHub('field', { partitions: 2, retentionHours: 3 })).retentionHours, 3, 'an unchanged count is accepted');

        const settled = log.hubs.get('field');
        const telemetry = log.hubs.get('telemetry');
        await assert.rejects(log.updateHub('field', { partitions: 4 }), hasCode('hub.partitions_fixed', /2 partitions/, /break the order/));
        await assert.rejects(log.updateHub('telemetry', { retentionHours: 1 }), hasCode('hub.configured', /change it in the configuration/));
        await assert.rejects(log.updateHub('nope', { retentionHours: 1 }), hasCode('ingest.unknown_hub'));
        for (const changes of [{}, { retentionHours: 0 }, { schema: 'bus' }, { name: 'renamed' }, { origin: 'config' }, { allowNonJson: 1 }]) {
          await assert.rejects(log.updateHub('field', changes as never), hasCode('request.invalid'), JSON.stringify(changes));
        }
        assert.deepEqual(log.hubs.get('field'), settled, 'refused changes changed nothing');
        assert.deepEqual(log.hubs.get('telemetry'), telemetry);

        // Changes made one after another each start from the last one's result.
        await Promise.all([log.updateHub('field', { retentionHours: 5 }), log.updateHub('field', { schema: 'truck' })]);
        assert.deepEqual([log.hubs.get('field')?.retentionHours, log.hubs.get('field')?.schema], [5, 'truck']);
        await log.close();

        const reopened = await store.open([hub('telemetry')], clock);
        assert.deepEqual(reopened.hubs.get('field'), log.hubs.get('field'), 'the changes were stored');
        await reopened.close();
      } finally {
        await store.cleanup();
      }
    });

    test('retention follows a hub\'s settings as changed', async () => {
      await withLog([], async (log, clock) => {
        await log.createHub(hub('aged', { partitions: 1, retentionHours: 48 }));
        for (let i = 0; i < 5; i++) await log.append('aged', [event('truck-1', i)]);
        clock.advance(2 * HOUR);
        assert.deepEqual(await log.enforceRetention(), { deleted: 0 }, 'within 48 hours');
        await log.updateHub('aged', { retentionHours: 1 });
        assert.deepEqual(await log.enforceRetention(), { deleted: 4 }, 'past 1 hour: all but the newest');

        await log.createHub(hub('sized', { partitions: 1 }));
        for (let i = 0; i < 20; i++) await log.append('sized', [event('truck-1', i, { body: bytes(100_000) })]);
        assert.deepEqual(await log.enforceRetention(), { deleted: 0 });
        await log.updateHub('sized', { retentionMaxBytes: 1_048_576 });
        assert.deepEqual(await log.enforceRetention(), { deleted: 10 });
        assert.equal((await log.partitionInfo('sized', 0)).bytes, 1_000_000);
      });
    });

    test('the configuration wins at start-up: configured settings and origin, even over a hub the API created', async () => {
      const store = await target.create();
      const clock = new ManualClock('2026-03-01T00:00:00.000Z');
      try {
        const first = await store.open([hub('telemetry'), hub('legacy', { partitions: 1 })], clock);
        await first.createHub(hub('field', { partitions: 2, retentionHours: 10 }));
        await first.append('legacy', [event('truck-1', 0)]);
        await first.close();

        clock.advance(HOUR);
        const reconfigured = [hub('telemetry', { retentionHours: 48, schema: 'truck' }), hub('field', { partitions: 2, retentionHours: 5, onInvalid: 'flag' })];
        const second = await store.open(reconfigured, clock);
        try {
          assert.deepEqual(specOf(second.hubs.get('telemetry')), reconfigured[0]);
          assert.equal(second.hubs.get('telemetry')?.updatedAt, '2026-03-01T01:00:00.000Z');
          assert.equal(second.hubs.get('telemetry')?.createdAt, '2026-03-01T00:00:00.000Z');
          assert.deepEqual(specOf(second.hubs.get('field')), reconfigured[1]);
          assert.equal(second.hubs.get('field')?.origin, 'config');
          await assert.rejects(second.updateHub('field', { retentionHours: 1 }), hasCode('hub.configured'));
          assert.equal(second.hubs.has('legacy'), false, 'a hub removed from the configuration is not served');
          await assert.rejects(second.createHub(hub('legacy')), hasCode('hub.name_taken', /removed from the configuration/));
          assert.equal(second.hubs.has('legacy'), false);
        } finally {
          await second.close();
        }
        await assert.rejects(store.open([hub('field', { partitions: 3 })], clock), hasCode('config.invalid', /field/, /2 partitions/));
        const third = await store.open([hub('legacy', { partitions: 1 })], clock);
        assert.equal((await third.partitionInfo('legacy', 0)).lastSequence, 1, 'configured again, its events are back');
        await third.close();
      } finally {
        await store.cleanup();
      }
    });
  });
}
