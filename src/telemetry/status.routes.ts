import Type from 'typebox';
import { DEPOT_PATTERN, DEVICE_ID_PATTERN, DEVICE_KINDS, type DeviceRegistry } from '../devices/registry.ts';
import type { PlaneApp } from '../http/plane.ts';
import { ProblemSchema } from '../http/problem.ts';
import { listScope } from '../identity/rbac.ts';
import type { DeviceStatusBoard } from './status.ts';

// GET /api/v1/devices/status: the fleet for the live map — each device's
// registry facts, when it was last heard and its last reported position.
// Depot-scoped dispatchers see only their depots.

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

export function registerDeviceStatusRoute(app: PlaneApp, deps: { registry: DeviceRegistry; status: DeviceStatusBoard }): void {
  app.get(
    '/api/v1/devices/status',
    {
      config: { access: { permission: 'device.read' } },
      schema: {
        tags: ['devices'],
        summary: 'Live status of devices: last seen, last position, battery (for the map)',
        querystring: Type.Object(
          {
            depot: Type.Optional(Type.String({ pattern: DEPOT_PATTERN })),
            kind: Type.Optional(Type.Enum(DEVICE_KINDS)),
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
        items: page.items.map((device) => {
          const live = deps.status.get(device.id);
          const lastSeenAt = [device.lastSeenAt, live?.receivedAt].filter((t): t is string => t !== undefined && t !== null).sort().at(-1) ?? null;
          return { id: device.id, kind: device.kind, name: device.name, depot: device.depot, status: device.status, lastSeenAt, hub: live?.hub ?? null, reading: live?.reading ?? null };
        }),
        nextCursor: page.nextCursor,
      };
    },
  );
}
