import { isJsonContentType } from '../ingest/events.ts';
import type { HubDefinition, StoredEvent } from '../stream/event-log.ts';
import { hubSettingsOf } from '../stream/hubs.ts';
import type { EventView, HubView } from './telemetry.schema.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A stored event as the API shows it: JSON bodies as JSON, anything else as base64. */
export function presentEvent(event: StoredEvent): EventView {
  const base = {
    hub: event.hub,
    partition: event.partition,
    sequence: event.sequence,
    offset: event.offset,
    enqueuedAt: event.enqueuedAt,
    publisher: event.publisher,
    contentType: event.contentType,
    properties: { ...event.properties },
    messageId: event.messageId,
  };
  if (isJsonContentType(event.contentType)) {
    try {
      return { ...base, bodyEncoding: 'json', body: JSON.parse(strictUtf8.decode(event.body)) as unknown };
    } catch {
      // Declared JSON but not (stored before a rule changed): show the bytes.
    }
  }
  return { ...base, bodyEncoding: 'base64', body: Buffer.from(event.body).toString('base64') };
}

/** A hub as the API shows it: its origin and every setting. */
export function presentHub(hub: HubDefinition): HubView {
  return {
    name: hub.name,
    origin: hub.origin,
    ...hubSettingsOf(hub),
    createdAt: hub.createdAt,
    updatedAt: hub.updatedAt,
  };
}
