import Type from 'typebox';
import type { PlaneApp } from '../http/plane.ts';
import type { Heartbeat, ServeStream } from '../http/event-stream.ts';
import { ProblemSchema } from '../http/problem.ts';
import { RampartError } from '../kernel/errors.ts';
import type { EventLog, HubDefinition, ReadFrom } from '../stream/event-log.ts';
import { presentEvent } from './present.ts';
import { streamPartition } from './stream.ts';
import {
  CheckpointBody,
  CheckpointParams,
  CheckpointSchema,
  EventPageSchema,
  EventsQuery,
  PartitionInfoSchema,
  PartitionParams,
  StreamQuery,
  type EventsQueryType,
} from './telemetry.schema.ts';

// Reading the event hubs, on the app plane, for anyone holding
// `telemetry.read` (administrators, dispatchers, service principals with that
// scope): partitions, pages of events, a live stream, and consumer-group
// checkpoints so a reader can resume where it stopped. The list of hubs, and
// creating and changing them, are in hubs.routes.ts.

export interface TelemetryRouteDeps {
  readonly eventLog: EventLog;
  /** How the app plane serves a stream (http/event-stream.ts). */
  readonly serveStream: ServeStream;
  readonly heartbeat: Heartbeat;
}

const ACCESS = { access: { permission: 'telemetry.read' } } as const;
const Errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema };
const LAST_EVENT_ID = /^(0|[1-9][0-9]{0,15})$/;

function invalid(detail: string): RampartError {
  return new RampartError('request.invalid', detail, { publicDetail: detail });
}

function readFrom(query: EventsQueryType): ReadFrom {
  const given = [query.fromSequence, query.fromOffset, query.fromTime].filter((v) => v !== undefined).length;
  if (given !== 1) throw invalid('give exactly one of fromSequence, fromOffset and fromTime');
  if (query.fromSequence !== undefined) return { sequence: query.fromSequence };
  if (query.fromOffset !== undefined) return { offset: query.fromOffset };
  return { enqueuedAt: new Date(query.fromTime ?? '').toISOString() };
}

export function registerTelemetryRoutes(app: PlaneApp, deps: TelemetryRouteDeps): void {
  const { eventLog, serveStream } = deps;

  function hubOf(name: string): HubDefinition {
    const hub = eventLog.hubs.get(name);
    if (hub === undefined) throw new RampartError('ingest.unknown_hub', `no hub ${name}`, { publicDetail: 'no such event hub' });
    return hub;
  }

  function partitionOf(name: string, partition: number): HubDefinition {
    const hub = hubOf(name);
    if (partition >= hub.partitions) throw new RampartError('route.not_found', `hub ${name} has no partition ${partition}`, { publicDetail: `hub ${name} has partitions 0 to ${hub.partitions - 1}` });
    return hub;
  }

  app.get(
    '/api/v1/hubs/:hub/partitions/:p',
    { config: ACCESS, schema: { tags: ['telemetry'], summary: 'A partition\'s runtime information: first and last sequence, last offset and time, size', params: PartitionParams, response: { 200: PartitionInfoSchema, ...Errors } } },
    async (request) => {
      partitionOf(request.params.hub, request.params.p);
      return eventLog.partitionInfo(request.params.hub, request.params.p);
    },
  );

  app.get(
    '/api/v1/hubs/:hub/partitions/:p/events',
    {
      config: ACCESS,
      schema: {
        tags: ['telemetry'],
        summary: 'Events of a partition, oldest first, from a sequence number, offset or time (exactly one); page with nextSequence',
        params: PartitionParams,
        querystring: EventsQuery,
        response: { 200: EventPageSchema, ...Errors },
      },
    },
    async (request) => {
      const { hub, p } = request.params;
      partitionOf(hub, p);
      const events = await eventLog.read(hub, p, readFrom(request.query), request.query.limit);
      const last = events.at(-1);
      return { events: events.map(presentEvent), nextSequence: last === undefined ? null : last.sequence + 1 };
    },
  );

  app.get(
    '/api/v1/hubs/:hub/partitions/:p/stream',
    {
      config: ACCESS,
      schema: {
        tags: ['telemetry'],
        summary: 'New events of a partition as Server-Sent Events (id = sequence; resumes after Last-Event-ID)',
        params: PartitionParams,
        querystring: StreamQuery,
        response: { 200: Type.String({ description: 'text/event-stream' }), ...Errors },
      },
    },
    async (request, reply) => {
      const { hub, p } = request.params;
      partitionOf(hub, p);
      const lastEventId = request.headers['last-event-id'];
      let from: number;
      if (lastEventId !== undefined) {
        if (typeof lastEventId !== 'string' || !LAST_EVENT_ID.test(lastEventId.trim())) throw invalid('Last-Event-ID must be a sequence number');
        from = Number(lastEventId.trim()) + 1;
      } else if (request.query.fromSequence !== undefined) {
        from = request.query.fromSequence;
      } else {
        from = (await eventLog.partitionInfo(hub, p)).lastSequence + 1;
      }

      await serveStream(request, reply, (raw, signal) => streamPartition(raw, { eventLog, hub, partition: p, from, heartbeat: deps.heartbeat, signal }));
    },
  );

  app.put(
    '/api/v1/hubs/:hub/consumergroups/:cg/checkpoints/:p',
    {
      config: ACCESS,
      schema: {
        tags: ['telemetry'],
        summary: 'Record how far a consumer group has read a partition',
        params: CheckpointParams,
        body: CheckpointBody,
        response: { 200: CheckpointSchema, ...Errors },
      },
    },
    async (request) => {
      const { hub, cg, p } = request.params;
      partitionOf(hub, p);
      const info = await eventLog.partitionInfo(hub, p);
      if (request.body.sequence > info.lastSequence) throw invalid(`sequence ${request.body.sequence} is beyond the partition's last (${info.lastSequence})`);
      return eventLog.putCheckpoint({ hub, consumerGroup: cg, partition: p, sequence: request.body.sequence, offset: request.body.offset });
    },
  );

  app.get(
    '/api/v1/hubs/:hub/consumergroups/:cg/checkpoints/:p',
    { config: ACCESS, schema: { tags: ['telemetry'], summary: 'A consumer group\'s checkpoint for a partition', params: CheckpointParams, response: { 200: CheckpointSchema, ...Errors } } },
    async (request) => {
      const { hub, cg, p } = request.params;
      partitionOf(hub, p);
      const checkpoint = await eventLog.getCheckpoint(hub, cg, p);
      if (checkpoint === undefined) throw new RampartError('route.not_found', `no checkpoint for ${cg} on ${hub}/${p}`, { publicDetail: 'no checkpoint stored for this consumer group and partition' });
      return checkpoint;
    },
  );
}
