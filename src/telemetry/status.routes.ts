import type { ServerResponse } from 'node:http';
import Type, { type Static } from 'typebox';
import { DEPOT_PATTERN, DEVICE_ID_PATTERN, DEVICE_KINDS, type DeviceRegistry, type DeviceView } from '../devices/registry.ts';
import { idleWait, writeEvent, type Heartbeat, type ServeStream } from '../http/event-stream.ts';
import type { PlaneApp } from '../http/plane.ts';
import { ProblemSchema } from '../http/problem.ts';
import { listScope } from '../identity/rbac.ts';
import type { DeviceLiveStatus, DeviceStatusBoard } from './status.ts';

// GET /api/v1/devices/status: the fleet for the live map — each device's
// registry facts, when it was last heard and its last reported position.
// GET /api/v1/devices/status/stream: the same items as Server-Sent Events as
// they change, gathered for `streams.fleetBatchMs` into one `status` message
// (a busy fleet costs one write per interval, not one per reading). A client
// loads the list, then follows the stream; on reconnecting it loads the list
// again (messages carry no id: the newest state is what counts, not a replay).
// Depot-scoped dispatchers see only their depots, in both.

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

const ReadingSchema = Type.Object({
  lat: Type.Number(),
  lon: Type.Number(),
  at: Type.String({ description: 'The device\'s timestamp of the reading (or its arrival when it sent none).' }),
  battery: Nullable(Type.Number({ description: 'Percent.' })),
  speed: Nullable(Type.Number({ description: 'Metres per second.' })),
  heading: Nullable(Type.Number()),
  altitude: Nullable(Type.Number()),
  flightState: Nullable(Type.String()),
});

const StatusSchema = Type.Object({
  id: Type.String(),
  kind: Type.Enum(DEVICE_KINDS),
  name: Type.String(),
  depot: Type.String(),
  status: Type.String(),
  lastSeenAt: Nullable(Type.String()),
  hub: Nullable(Type.String()),
  reading: Nullable(ReadingSchema),
});

/** At most this many devices are looked up in one query when a batch is sent. */
const LOOKUP_CHUNK = 500;

export interface DeviceStatusRouteDeps {
  readonly registry: DeviceRegistry;
  readonly status: DeviceStatusBoard;
  readonly serveStream: ServeStream;
  readonly heartbeat: Heartbeat;
  readonly batchMs: number;
  /** A signal that aborts after `ms`: the batch window. Default AbortSignal.timeout. */
  readonly batchTimer?: (ms: number) => AbortSignal;
}

type StatusItem = Static<typeof StatusSchema>;

function present(device: DeviceView, live: DeviceLiveStatus | undefined): StatusItem {
  const lastSeenAt = [device.lastSeenAt, live?.receivedAt].filter((t): t is string => t !== undefined && t !== null).sort().at(-1) ?? null;
  return { id: device.id, kind: device.kind, name: device.name, depot: device.depot, status: device.status, lastSeenAt, hub: live?.hub ?? null, reading: live?.reading ?? null };
}

const FilterQuery = {
  depot: Type.Optional(Type.String({ pattern: DEPOT_PATTERN })),
  kind: Type.Optional(Type.Enum(DEVICE_KINDS)),
};

export function registerDeviceStatusRoute(app: PlaneApp, deps: DeviceStatusRouteDeps): void {
  app.get(
    '/api/v1/devices/status',
    {
      config: { access: { permission: 'device.read' } },
      schema: {
        tags: ['devices'],
        summary: 'Live status of devices: last seen, last position, battery (for the map)',
        querystring: Type.Object(
          {
            ...FilterQuery,
            limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
            cursor: Type.Optional(Type.String({ pattern: DEVICE_ID_PATTERN })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(StatusSchema), nextCursor: Nullable(Type.String()) }), 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema },
      },
    },
    async (request) => {
      const { depots } = listScope(request.actor, 'device');
      const q = request.query;
      const page = await deps.registry.list({
        limit: q.limit,
        ...(q.depot === undefined ? {} : { depot: q.depot }),
        ...(depots === undefined ? {} : { depots }),
        ...(q.kind === undefined ? {} : { kind: q.kind }),
        ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
      });
      return {
        items: page.items.map((device) => present(device, deps.status.get(device.id))),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.get(
    '/api/v1/devices/status/stream',
    {
      config: { access: { permission: 'device.read' } },
      schema: {
        tags: ['devices'],
        summary: 'Changes to the live status of devices as Server-Sent Events (`status` messages with `items`)',
        description: 'Each `status` message is `{"items": [...]}` in the form of `GET /api/v1/devices/status`, for the devices that changed since the last message. Load that list first, then follow this stream; load it again after a reconnect.',
        querystring: Type.Object(FilterQuery, { additionalProperties: false }),
        response: { 200: Type.String({ description: 'text/event-stream' }), 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema },
      },
    },
    async (request, reply) => {
      const { depots } = listScope(request.actor, 'device');
      const { depot, kind } = request.query;
      const describe = async (ids: readonly string[]): Promise<StatusItem[]> => {
        const items: StatusItem[] = [];
        for (let i = 0; i < ids.length; i += LOOKUP_CHUNK) {
          const chunk = ids.slice(i, i + LOOKUP_CHUNK);
          const page = await deps.registry.list({
            ids: chunk,
            limit: chunk.length,
            ...(depot === undefined ? {} : { depot }),
            ...(depots === undefined ? {} : { depots }),
            ...(kind === undefined ? {} : { kind }),
          });
          for (const device of page.items) items.push(present(device, deps.status.get(device.id)));
        }
        return items;
      };
      // Watching starts before the stream's first line: a change made once the client has that line is sent.
      const changes = watchChanges(deps.status);
      try {
        await serveStream(request, reply, (raw, signal) => streamChanges(raw, signal, changes, describe));
      } finally {
        changes.stop();
      }
    },
  );

  const { serveStream } = deps;
  const batchTimer = deps.batchTimer ?? ((ms: number) => AbortSignal.timeout(ms));

  /** Waits for changes, gathers them for the batch window, sends those the caller may see. */
  async function streamChanges(raw: ServerResponse, signal: AbortSignal, changes: ChangeWatch, describe: (ids: readonly string[]) => Promise<StatusItem[]>): Promise<void> {
    const ended = () => signal.aborted;
    while (!ended()) {
      if (!changes.pending()) {
        await idleWait(raw, signal, deps.heartbeat, (tick) => changes.next(tick));
        continue;
      }
      if (deps.batchMs > 0) await aborted(AbortSignal.any([signal, batchTimer(deps.batchMs)]));
      if (ended()) break;
      const items = await describe(changes.take());
      if (items.length > 0) await writeEvent(raw, `event: status\ndata: ${JSON.stringify({ items })}\n\n`, signal);
    }
  }
}

interface ChangeWatch {
  pending(): boolean;
  /** The changed ids since the last take. */
  take(): string[];
  /** Resolves at the next change (at once when one is pending) or when `signal` aborts. */
  next(signal: AbortSignal): Promise<void>;
  stop(): void;
}

/** The devices that changed on the board, as a set: a device changing ten times in a window is sent once. */
function watchChanges(board: DeviceStatusBoard): ChangeWatch {
  const changed = new Set<string>();
  let wake: (() => void) | undefined;
  const stop = board.subscribe((id) => {
    changed.add(id);
    wake?.();
  });
  return {
    pending: () => changed.size > 0,
    take() {
      const ids = [...changed];
      changed.clear();
      return ids;
    },
    next(signal) {
      return new Promise<void>((resolve) => {
        const done = () => {
          wake = undefined;
          signal.removeEventListener('abort', done);
          resolve();
        };
        if (changed.size > 0 || signal.aborted) {
          done();
          return;
        }
        wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
    },
    stop,
  };
}

/** Resolves when `signal` aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
