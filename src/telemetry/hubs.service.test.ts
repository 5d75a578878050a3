import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../kernel/clock.ts';
import { createMemoryLogger } from '../kernel/logger.ts';
import { openEmbeddedEventLog } from '../stream/embedded/index.ts';
import type { EventLog, HubSpec } from '../stream/event-log.ts';
import { DATABASE_TARGETS, serviceSkipReason, type OpenedDatabase } from '../../test/support/databases.ts';
import { hasCode } from '../../test/support/errors.ts';
import { hubSpec } from '../../test/support/event-log.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { HubAdministration } from './hubs.service.ts';

// A hub change and its audit entry live in two databases: the entry commits
// only if the event log's change did, and each entry's "before" is what the
// change replaced.

const actor = { actor: { type: 'cli' as const, id: 'test' } };

for (const target of DATABASE_TARGETS) {
  describe(`hub administration: ${target.name}`, { skip: serviceSkipReason(target.skip) }, () => {
    async function withAdministration(configured: readonly HubSpec[], body: (ctx: { administration: HubAdministration; eventLog: EventLog; opened: OpenedDatabase; reopen: (hubs: readonly HubSpec[]) => Promise<EventLog> }) => Promise<void>): Promise<void> {
      const opened = await target.open();
      const dir = tempDir('rampart-hubs');
      const clock = new ManualClock('2026-03-01T00:00:00.000Z');
      const open = (hubs: readonly HubSpec[]) => openEmbeddedEventLog({ path: `${dir.path}/events.db`, hubs, clock, synchronous: 'normal', maxGroupEvents: 100, logger: createMemoryLogger('warn').logger });
      let eventLog = await open(configured);
      try {
        await body({
          administration: new HubAdministration({ db: opened.database.db, eventLog, clock }),
          eventLog,
          opened,
          reopen: async (hubs) => {
            await eventLog.close();
            eventLog = await open(hubs);
            return eventLog;
          },
        });
      } finally {
        await eventLog.close();
        await opened.cleanup();
        dir.cleanup();
      }
    }

    const hubEntries = (opened: OpenedDatabase) => opened.database.db.selectFrom('audit_entries').select(['action', 'target_id', 'details']).where('action', 'like', 'hub.%').orderBy('seq').execute();

    test('audits each change with the settings it replaced, also when changes arrive together', async () => {
      await withAdministration([], async ({ administration, eventLog, opened }) => {
        await administration.create(hubSpec('field'), actor);
        await Promise.all([administration.update('field', { retentionHours: 5 }, actor), administration.update('field', { schema: 'truck' }, actor)]);
        const entries = (await hubEntries(opened)).map((entry) => ({ ...entry, details: JSON.parse(entry.details) as Record<string, unknown> }));
        assert.deepEqual(entries.map((e) => [e.action, e.target_id]), [['hub.create', 'field'], ['hub.update', 'field'], ['hub.update', 'field']]);
        const [created, first, second] = entries.map((e) => e.details);
        assert.equal(created?.['before'], null);
        assert.deepEqual(first?.['before'], created['after']);
        assert.deepEqual(second?.['before'], first?.['after'], 'the second change starts from the first one\'s result');
        assert.deepEqual(first?.['changed'], ['retentionHours']);
        assert.deepEqual(second?.['changed'], ['schema']);
        assert.deepEqual([eventLog.hubs.get('field')?.retentionHours, eventLog.hubs.get('field')?.schema], [5, 'truck']);
      });
    });

    test('rolls the audit entry back when the event log refuses or cannot make the change', async () => {
      await withAdministration([hubSpec('legacy')], async ({ opened, reopen }) => {
        // A hub removed from the configuration is unknown to the live map but still held by the log: only the log can refuse it.
        const eventLog = await reopen([]);
        const administration = new HubAdministration({ db: opened.database.db, eventLog, clock: new ManualClock() });
        await assert.rejects(administration.create(hubSpec('legacy'), actor), hasCode('hub.name_taken', /removed from the configuration/));
        assert.deepEqual(await hubEntries(opened), [], 'no entry for a hub that was not created');

        await administration.create(hubSpec('field'), actor);
        await eventLog.close();
        await assert.rejects(administration.update('field', { retentionHours: 5 }, actor), hasCode('service.unavailable'));
        assert.deepEqual((await hubEntries(opened)).map((e) => e.action), ['hub.create'], 'no entry for a change the log did not make');
      });
    });

    test('makes no change when its audit entry cannot be written', async () => {
      await withAdministration([], async ({ administration, eventLog, opened }) => {
        await administration.create(hubSpec('field'), actor);
        // Without the chain's head row no entry can be appended.
        await opened.database.db.deleteFrom('audit_head').execute();
        await assert.rejects(administration.create(hubSpec('other'), actor));
        await assert.rejects(administration.update('field', { retentionHours: 5 }, actor));
        assert.equal(eventLog.hubs.has('other'), false);
        assert.equal(eventLog.hubs.get('field')?.retentionHours, 24);
      });
    });
  });
}
