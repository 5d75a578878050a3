import Type, { type Static, type TSchema } from 'typebox';
import { HUB_NAME_PATTERN, HubSettingsSchema } from '../config/schema.ts';

// Request and response shapes of the telemetry read API (app plane).

export const MAX_EVENTS_PER_PAGE = 1000;
export const CONSUMER_GROUP_PATTERN = '^[A-Za-z0-9._-]{1,64}$';

export const PartitionParams = Type.Object(
  {
    hub: Type.String({ pattern: HUB_NAME_PATTERN, description: 'Event hub name.' }),
    p: Type.Integer({ minimum: 0, maximum: 63, description: 'Partition number, from 0.' }),
  },
  { additionalProperties: false },
);

export const HubParams = Type.Object({ hub: Type.String({ pattern: HUB_NAME_PATTERN, description: 'Event hub name.' }) }, { additionalProperties: false });

export const CheckpointParams = Type.Object(
  {
    hub: Type.String({ pattern: HUB_NAME_PATTERN, description: 'Event hub name.' }),
    cg: Type.String({ pattern: CONSUMER_GROUP_PATTERN, description: 'Consumer group: the reading application\'s name.' }),
    p: Type.Integer({ minimum: 0, maximum: 63, description: 'Partition number, from 0.' }),
  },
  { additionalProperties: false },
);

export const HubSchema = Type.Object(
  {
    name: Type.String(),
    origin: Type.Enum(['config', 'api'], { description: '`config`: defined in the configuration (change it there); `api`: created through `POST /api/v1/hubs`.' }),
    partitions: Type.Integer(),
    retentionHours: Type.Integer(),
    retentionMaxBytes: Type.Integer({ description: 'Per partition, in body bytes.' }),
    schema: Type.Enum(['drone', 'truck', 'none'], { description: 'The built-in telemetry schema events are checked against.' }),
    onInvalid: Type.Enum(['refuse', 'flag'], { description: 'An event failing the schema is refused, or stored flagged with `rampart-schema-invalid`.' }),
    allowNonJson: Type.Boolean({ description: 'Whether bodies that are not JSON are accepted.' }),
    createdAt: Type.String({ description: 'When the event log first recorded the hub.' }),
    updatedAt: Type.String({ description: 'When its settings last changed.' }),
  },
  { additionalProperties: false },
);

export type HubView = Static<typeof HubSchema>;

const setting = HubSettingsSchema.properties;

/** A setting's schema without its default: a change names only what it changes, and nothing else is reset. */
function withoutDefault<T extends TSchema>(schema: T): T {
  const copy = { ...schema } as unknown as Record<string, unknown>;
  delete copy['default'];
  return copy as unknown as T;
}

export const HubCreateBody = Type.Object(
  {
    name: Type.String({ pattern: HUB_NAME_PATTERN, description: 'a–z, 0–9 and "-", starting with a letter, at most 50 characters; it appears in device paths and SAS resource URIs.' }),
    partitions: Type.Optional(setting.partitions),
    retentionHours: Type.Optional(setting.retentionHours),
    retentionMaxBytes: Type.Optional(setting.retentionMaxBytes),
    schema: Type.Optional(setting.schema),
    onInvalid: Type.Optional(setting.onInvalid),
    allowNonJson: Type.Optional(setting.allowNonJson),
  },
  { additionalProperties: false, description: 'A new hub; settings left out take their defaults (the same as in the configuration). The partition count is fixed for the hub\'s life.' },
);

export const HubChangeBody = Type.Object(
  {
    partitions: Type.Optional(withoutDefault(setting.partitions)),
    retentionHours: Type.Optional(withoutDefault(setting.retentionHours)),
    retentionMaxBytes: Type.Optional(withoutDefault(setting.retentionMaxBytes)),
    schema: Type.Optional(withoutDefault(setting.schema)),
    onInvalid: Type.Optional(withoutDefault(setting.onInvalid)),
    allowNonJson: Type.Optional(withoutDefault(setting.allowNonJson)),
  },
  { additionalProperties: false, minProperties: 1, description: 'Settings to change; the rest stay. `partitions` is accepted only unchanged.' },
);

export const HubListSchema = Type.Object({ hubs: Type.Array(HubSchema) }, { additionalProperties: false });

export const PartitionInfoSchema = Type.Object(
  {
    hub: Type.String(),
    partition: Type.Integer(),
    firstSequence: Type.Integer({ description: '0 when the partition is empty.' }),
    lastSequence: Type.Integer(),
    lastOffset: Type.Integer(),
    lastEnqueuedAt: Type.Union([Type.String(), Type.Null()]),
    bytes: Type.Integer(),
  },
  { additionalProperties: false },
);

export const EventsQuery = Type.Object(
  {
    fromSequence: Type.Optional(Type.Integer({ minimum: 0, description: 'Start at this sequence number (inclusive).' })),
    fromOffset: Type.Optional(Type.Integer({ minimum: 0, description: 'Start at the event at or after this byte offset.' })),
    fromTime: Type.Optional(Type.String({ format: 'date-time', description: 'Start at the first event enqueued at or after this time (RFC 3339).' })),
    limit: Type.Integer({ minimum: 1, maximum: MAX_EVENTS_PER_PAGE, default: 100, description: 'Most events returned.' }),
  },
  { additionalProperties: false, description: 'Exactly one of fromSequence, fromOffset and fromTime.' },
);

export type EventsQueryType = Static<typeof EventsQuery>;

export const StreamQuery = Type.Object(
  {
    fromSequence: Type.Optional(Type.Integer({ minimum: 0, description: 'Start at this sequence number; without it (and without Last-Event-ID) only new events are sent.' })),
  },
  { additionalProperties: false },
);

export const EventSchema = Type.Object(
  {
    hub: Type.String(),
    partition: Type.Integer(),
    sequence: Type.Integer(),
    offset: Type.Integer(),
    enqueuedAt: Type.String(),
    publisher: Type.String(),
    contentType: Type.String(),
    properties: Type.Record(Type.String(), Type.String()),
    messageId: Type.Union([Type.String(), Type.Null()]),
    bodyEncoding: Type.Enum(['json', 'base64'], { description: '`json`: `body` is the JSON document; `base64`: `body` is the bytes, base64.' }),
    body: Type.Unknown(),
  },
  { additionalProperties: false },
);

export type EventView = Static<typeof EventSchema>;

export const EventPageSchema = Type.Object(
  {
    events: Type.Array(EventSchema),
    nextSequence: Type.Union([Type.Integer(), Type.Null()], { description: 'fromSequence for the next page; null when this page is empty.' }),
  },
  { additionalProperties: false },
);

export const CheckpointBody = Type.Object(
  {
    sequence: Type.Integer({ minimum: 0, description: 'Last sequence number the group has processed.' }),
    offset: Type.Integer({ minimum: 0, description: 'That event\'s offset.' }),
  },
  { additionalProperties: false },
);

export const CheckpointSchema = Type.Object(
  {
    hub: Type.String(),
    consumerGroup: Type.String(),
    partition: Type.Integer(),
    sequence: Type.Integer(),
    offset: Type.Integer(),
    updatedAt: Type.String(),
  },
  { additionalProperties: false },
);
