import { join } from 'node:path';
import type { RampartConfig } from '../config/schema.ts';
import type { HubDefinition } from './event-log.ts';

/** The configured hubs as the event log takes them. */
export function hubDefinitions(config: RampartConfig): HubDefinition[] {
  return Object.entries(config.hubs).map(([name, hub]) => ({ name, partitions: hub.partitions, retentionHours: hub.retentionHours, retentionMaxBytes: hub.retentionMaxBytes }));
}

/** Where the embedded event log lives: `eventLog.path`, or `<dataDir>/events.db`. */
export function eventLogPath(config: RampartConfig): string {
  return config.eventLog.path === '' ? join(config.dataDir, 'events.db') : config.eventLog.path;
}
