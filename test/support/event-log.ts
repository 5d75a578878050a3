import { openEmbeddedEventLog } from '../../src/stream/embedded/index.ts';
import type { EventLog, HubSpec } from '../../src/stream/event-log.ts';
import { eventLogPath, hubDefinitions } from '../../src/stream/hubs.ts';
import { systemClock } from '../../src/kernel/clock.ts';
import { createMemoryLogger } from '../../src/kernel/logger.ts';
import { testConfig } from './config.ts';

/** A small hub for tests: two partitions, a day's retention, no schema; `overrides` on top. */
export function hubSpec(name: string, overrides: Partial<HubSpec> = {}): HubSpec {
  return { name, partitions: 2, retentionHours: 24, retentionMaxBytes: 1_073_741_824, schema: 'none', onInvalid: 'refuse', allowNonJson: false, ...overrides };
}

/** Opens the event log a (stopped) server left in `dataDir`, with the default hubs. */
export function openDataDirEventLog(dataDir: string): Promise<EventLog> {
  const config = testConfig(dataDir);
  return openEmbeddedEventLog({ path: eventLogPath(config), hubs: hubDefinitions(config), clock: systemClock, synchronous: 'full', maxGroupEvents: 1000, logger: createMemoryLogger('warn').logger });
}

/** The message ids stored per publisher in `hub`, in stored order. */
export async function storedMessageIds(log: EventLog, hub: string): Promise<Map<string, string[]>> {
  const stored = new Map<string, string[]>();
  const definition = log.hubs.get(hub);
  for (let p = 0; p < (definition?.partitions ?? 0); p++) {
    for (let from = 1; ; ) {
      const page = await log.read(hub, p, { sequence: from }, 1000);
      for (const e of page) stored.set(e.publisher, [...(stored.get(e.publisher) ?? []), e.messageId ?? '']);
      if (page.length < 1000) break;
      from = (page.at(-1)?.sequence ?? from) + 1;
    }
  }
  return stored;
}
