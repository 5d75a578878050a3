import Type from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { PlaneApp } from '../http/plane.ts';
import { ProblemSchema } from '../http/problem.ts';
import { auditActor, auditContext } from '../identity/access.ts';
import { can, listScope } from '../identity/rbac.ts';
import type { Clock } from '../kernel/clock.ts';
import { RampartError } from '../kernel/errors.ts';
import { DEPOT_PATTERN, DEVICE_ID_PATTERN, DEVICE_KINDS, DEVICE_STATUSES, KEY_NAMES, MAX_NAME_LENGTH, MAX_THUMBPRINTS, THUMBPRINT_PATTERN, type DeviceChange, type DeviceRegistry, type DeviceView } from './registry.ts';
import { issueDeviceToken, MIN_TOKEN_TTL_SECONDS, type DeviceTokenSettings } from './tokens.ts';

// Device administration on the app plane. A device outside a dispatcher's
// depots answers 404 exactly like one that does not exist. Keys appear only in
// the response that creates, rotates or reveals them.

const KindSchema = Type.Enum(DEVICE_KINDS);
const StatusSchema = Type.Enum(DEVICE_STATUSES);
const IdSchema = Type.String({ pattern: DEVICE_ID_PATTERN });
const IdParams = Type.Object({ id: IdSchema }, { additionalProperties: false });
const KeySchema = Type.String({ description: 'Base64 of 32 random bytes; shown only in this response.' });

const DeviceSchema = Type.Object({
  id: Type.String(),
  kind: KindSchema,
  name: Type.String(),
  depot: Type.String(),
  status: StatusSchema,
  thumbprints: Type.Array(Type.String()),
  revision: Type.Integer(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  lastSeenAt: Type.Union([Type.String(), Type.Null()]),
});

const Errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema };

export interface DeviceRouteDeps {
  readonly registry: DeviceRegistry;
  readonly clock: Clock;
  readonly settings: DeviceTokenSettings;
}

export function registerDeviceRoutes(app: PlaneApp, deps: DeviceRouteDeps): void {
  const { registry } = deps;
  const change = (request: FastifyRequest): DeviceChange => ({ actor: auditActor(request.actor), context: auditContext(request) });

  /** The device, when the caller may see it; otherwise not found. */
  const visible = async (request: FastifyRequest, id: string): Promise<DeviceView> => {
    const device = await registry.get(id);
    if (!can(request.actor, 'device.read', { type: 'device', id, depotId: device.depot })) throw new RampartError('device.not_found', `device ${id} not visible to caller`);
    return device;
  };

  app.get(
    '/api/v1/devices',
    {
      config: { access: { permission: 'device.read' } },
      schema: {
        tags: ['devices'],
        summary: 'List devices (filter, search, paginate)',
        querystring: Type.Object(
          {
            depot: Type.Optional(Type.String({ pattern: DEPOT_PATTERN })),
            kind: Type.Optional(KindSchema),
            status: Type.Optional(StatusSchema),
            q: Type.Optional(Type.String({ maxLength: 64, description: 'Part of the id or name.' })),
            limit: Type.Integer({ minimum: 1, maximum: 100, default: 25 }),
            cursor: Type.Optional(IdSchema),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(DeviceSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...Errors },
      },
    },
    async (request) => {
      const { depots } = listScope(request.actor, 'device');
      const q = request.query;
      return registry.list({
        limit: q.limit,
        ...(q.depot === undefined ? {} : { depot: q.depot }),
        ...(depots === undefined ? {} : { depots }),
        ...(q.kind === undefined ? {} : { kind: q.kind }),
        ...(q.status === undefined ? {} : { status: q.status }),
        ...(q.q === undefined ? {} : { q: q.q }),
        ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
      });
    },
  );

  app.get(
    '/api/v1/devices/:id',
    { config: { access: { permission: 'device.read' } }, schema: { tags: ['devices'], summary: 'One device', params: IdParams, response: { 200: DeviceSchema, ...Errors } } },
    async (request) => visible(request, request.params.id),
  );

  app.post(
    '/api/v1/devices',
    {
      config: { access: { permission: 'device.manage' } },
      schema: {
        tags: ['devices'],
        summary: 'Register a device; returns its two keys once',
        body: Type.Object({ id: IdSchema, kind: KindSchema, name: Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH }), depot: Type.String({ pattern: DEPOT_PATTERN }) }, { additionalProperties: false }),
        response: { 201: Type.Object({ device: DeviceSchema, primaryKey: KeySchema, secondaryKey: KeySchema }), ...Errors },
      },
    },
    async (request, reply) => reply.code(201).send(await registry.add(request.body, change(request))),
  );

  for (const [verb, status] of [['disable', 'disabled'], ['enable', 'enabled']] as const) {
    app.post(
      `/api/v1/devices/:id/${verb}`,
      {
        config: { access: { permission: 'device.manage' } },
        schema: { tags: ['devices'], summary: verb === 'disable' ? 'Disable a device (its connections end within a second)' : 'Enable a device', params: IdParams, response: { 200: DeviceSchema, ...Errors } },
      },
      async (request) => {
        await visible(request, request.params.id);
        return registry.setStatus(request.params.id, status, change(request));
      },
    );
  }

  app.post(
    '/api/v1/devices/:id/keys/:which/rotate',
    {
      config: { access: { permission: 'device.key.reveal' } },
      schema: {
        tags: ['devices'],
        summary: 'Replace one key (step-up); returns the new key once',
        params: Type.Object({ id: IdSchema, which: Type.Enum(KEY_NAMES) }, { additionalProperties: false }),
        response: { 200: Type.Object({ device: DeviceSchema, key: KeySchema }), ...Errors },
      },
    },
    async (request) => {
      await visible(request, request.params.id);
      return registry.rotateKey(request.params.id, request.params.which, change(request));
    },
  );

  app.get(
    '/api/v1/devices/:id/keys',
    {
      config: { access: { permission: 'device.key.reveal' } },
      schema: { tags: ['devices'], summary: 'Both keys of a device (step-up; audited)', params: IdParams, response: { 200: Type.Object({ primaryKey: KeySchema, secondaryKey: KeySchema }), ...Errors } },
    },
    async (request) => {
      await visible(request, request.params.id);
      return registry.revealKeys(request.params.id, change(request));
    },
  );

  app.put(
    '/api/v1/devices/:id/thumbprints',
    {
      config: { access: { permission: 'device.manage' } },
      schema: {
        tags: ['devices'],
        summary: 'Replace the SHA-256 thumbprints of the device\'s client certificates',
        params: IdParams,
        body: Type.Object({ thumbprints: Type.Array(Type.String({ pattern: THUMBPRINT_PATTERN }), { maxItems: MAX_THUMBPRINTS, uniqueItems: true }) }, { additionalProperties: false }),
        response: { 200: DeviceSchema, ...Errors },
      },
    },
    async (request) => {
      await visible(request, request.params.id);
      return registry.setThumbprints(request.params.id, request.body.thumbprints, change(request));
    },
  );

  app.post(
    '/api/v1/devices/:id/token',
    {
      config: { access: { permission: 'device.key.reveal' } },
      schema: {
        tags: ['devices'],
        summary: 'A SAS token for the device, signed with its primary key (step-up; audited)',
        params: IdParams,
        body: Type.Object(
          {
            ttlSeconds: Type.Integer({ minimum: MIN_TOKEN_TTL_SECONDS, maximum: 31_536_000, description: 'Lifetime; at most devices.maxTokenLifetimeSeconds.' }),
            hub: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9-]{0,49}$', description: 'HTTP tokens: the hub (default `<kind>-telemetry`).' })),
            scope: Type.Optional(Type.Enum(['http', 'mqtt'], { default: 'http', description: '`http`: `<host>/<hub>/publishers/<id>`; `mqtt`: `<host>/devices/<id>`.' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ token: Type.String(), resourceUri: Type.String(), expiresAt: Type.String() }), ...Errors },
      },
    },
    async (request) => {
      await visible(request, request.params.id);
      const body = request.body;
      return issueDeviceToken(registry, deps.settings, request.params.id, { ttlSeconds: body.ttlSeconds, scope: body.scope ?? 'http', ...(body.hub === undefined ? {} : { hub: body.hub }) }, change(request), deps.clock.now().getTime());
    },
  );
}
