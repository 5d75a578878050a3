import Type from 'typebox';
import type { FastifyRequest } from 'fastify';
import { DEVICE_ID_PATTERN } from '../../devices/registry.ts';
import type { PlaneApp } from '../../http/plane.ts';
import { can, listScope, type Permission } from '../../identity/rbac.ts';
import { RampartError } from '../../kernel/errors.ts';
import { ACCOUNT_ID_PATTERN } from '../checks.ts';
import { changeOf, defined, DepotIdSchema, Errors, LimitSchema, NameSchema, NextCursor, SearchSchema, UnitIdSchema } from '../schemas.ts';
import { MAX_PAYLOAD_KG, MAX_RANGE_KM, UNIT_STATUSES, type FleetRegistry, type FleetUnitView, type UnitKind } from './fleet.service.ts';

// Vehicles, drones and driver profiles on the app plane. Anything belonging
// to a depot outside a dispatcher's scope answers 404 like a missing object;
// moving a unit needs both the old and the new depot in scope.

const StatusSchema = Type.Enum(UNIT_STATUSES);
const DeviceRef = Type.Union([Type.String({ pattern: DEVICE_ID_PATTERN }), Type.Null()], { description: 'The linked device (null: none).' });
const PayloadSchema = Type.Number({ exclusiveMinimum: 0, maximum: MAX_PAYLOAD_KG });
const RangeSchema = Type.Number({ exclusiveMinimum: 0, maximum: MAX_RANGE_KM });
const PlateSchema = Type.Union([Type.String({ minLength: 1, maxLength: 20 }), Type.Null()]);

const Common = {
  id: Type.String(),
  kind: Type.Enum(['vehicle', 'drone']),
  name: Type.String(),
  depotId: Type.String(),
  deviceId: Type.Union([Type.String(), Type.Null()]),
  status: StatusSchema,
  maxPayloadKg: Type.Number(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
};
/** Vehicles carry `plate`, drones `maxRangeKm`. */
const UnitSchema = Type.Object({ ...Common, plate: Type.Optional(Type.Union([Type.String(), Type.Null()])), maxRangeKm: Type.Optional(Type.Number()) });
const DriverSchema = Type.Object({ accountId: Type.String(), username: Type.String(), accountStatus: Type.String(), homeDepotId: Type.String(), createdAt: Type.String(), updatedAt: Type.String() });
const AnyCreateBody = Type.Object(
  { id: UnitIdSchema, name: NameSchema, depotId: DepotIdSchema, deviceId: Type.Optional(DeviceRef), maxPayloadKg: PayloadSchema, plate: Type.Optional(PlateSchema), maxRangeKm: Type.Optional(RangeSchema) },
  { additionalProperties: false },
);
const AnyPatchBody = Type.Object(
  { name: Type.Optional(NameSchema), depotId: Type.Optional(DepotIdSchema), deviceId: Type.Optional(DeviceRef), status: Type.Optional(StatusSchema), maxPayloadKg: Type.Optional(PayloadSchema), plate: Type.Optional(PlateSchema), maxRangeKm: Type.Optional(RangeSchema) },
  { additionalProperties: false, minProperties: 1 },
);
const ListQuery = Type.Object({ depot: Type.Optional(DepotIdSchema), status: Type.Optional(StatusSchema), q: Type.Optional(SearchSchema), limit: LimitSchema, cursor: Type.Optional(UnitIdSchema) }, { additionalProperties: false });

export function registerFleetRoutes(app: PlaneApp, fleet: FleetRegistry): void {
  const inScope = (request: FastifyRequest, permission: Permission, depotId: string) => can(request.actor, permission, { type: 'depot', depotId });

  const visibleUnit = async (request: FastifyRequest, kind: UnitKind, id: string, permission: Permission = 'fleet.read'): Promise<FleetUnitView> => {
    const unit = await fleet.getUnit(kind, id);
    if (!inScope(request, permission, unit.depotId)) throw new RampartError(kind === 'vehicle' ? 'vehicle.not_found' : 'drone.not_found', `${kind} ${id} not visible to caller`);
    return unit;
  };
  const depotInScope = (request: FastifyRequest, depotId: string) => {
    if (!inScope(request, 'fleet.manage', depotId)) throw new RampartError('depot.not_found', `depot ${depotId} not visible to caller`);
  };

  for (const kind of ['vehicle', 'drone'] as const) {
    const path = kind === 'vehicle' ? '/api/v1/vehicles' : '/api/v1/drones';
    const tag = kind === 'vehicle' ? 'vehicles' : 'drones';
    const schema = UnitSchema;
    // One body schema for both kinds; the service refuses a drone's plate and a vehicle's range.
    const createBody = AnyCreateBody;
    const patchBody = AnyPatchBody;
    const params = Type.Object({ id: UnitIdSchema }, { additionalProperties: false });

    app.get(
      path,
      { config: { access: { permission: 'fleet.read' } }, schema: { tags: [tag], summary: `List ${tag} (filter, search, paginate by id)`, querystring: ListQuery, response: { 200: Type.Object({ items: Type.Array(schema), nextCursor: NextCursor }), ...Errors } } },
      async (request) => fleet.listUnits(kind, { limit: request.query.limit, ...defined({ depot: request.query.depot, status: request.query.status, q: request.query.q, cursor: request.query.cursor, depots: listScope(request.actor, kind).depots }) }),
    );

    app.post(
      path,
      {
        config: { access: { permission: 'fleet.manage' } },
        schema: {
          tags: [tag],
          summary: kind === 'vehicle' ? 'Add a truck, optionally linked to its telematics device' : 'Add a drone, optionally linked to its device',
          body: createBody,
          response: { 201: schema, ...Errors },
        },
      },
      async (request, reply) => {
        depotInScope(request, request.body.depotId);
        return reply.code(201).send(await fleet.addUnit(kind, request.body, changeOf(request)));
      },
    );

    app.get(
      `${path}/:id`,
      { config: { access: { permission: 'fleet.read' } }, schema: { tags: [tag], summary: `One ${kind}`, params, response: { 200: schema, ...Errors } } },
      async (request) => visibleUnit(request, kind, request.params.id),
    );

    app.patch(
      `${path}/:id`,
      {
        config: { access: { permission: 'fleet.manage' } },
        schema: {
          tags: [tag],
          summary: `Change a ${kind}: name, depot, device link, status, limits`,
          params,
          body: patchBody,
          response: { 200: schema, ...Errors },
        },
      },
      async (request) => {
        await visibleUnit(request, kind, request.params.id, 'fleet.manage');
        if (request.body.depotId !== undefined) depotInScope(request, request.body.depotId);
        return fleet.updateUnit(kind, request.params.id, request.body, changeOf(request));
      },
    );
  }

  const DriverParams = Type.Object({ id: Type.String({ pattern: ACCOUNT_ID_PATTERN }) }, { additionalProperties: false });

  app.get(
    '/api/v1/drivers',
    {
      config: { access: { permission: 'fleet.read' } },
      schema: {
        tags: ['drivers'],
        summary: 'List drivers (accounts with the driver role and a profile), by username',
        querystring: Type.Object({ depot: Type.Optional(DepotIdSchema), q: Type.Optional(SearchSchema), limit: LimitSchema, cursor: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(DriverSchema), nextCursor: NextCursor }), ...Errors },
      },
    },
    async (request) => fleet.listDrivers({ limit: request.query.limit, ...defined({ depot: request.query.depot, q: request.query.q, cursor: request.query.cursor, depots: listScope(request.actor, 'driver').depots }) }),
  );

  app.get(
    '/api/v1/drivers/:id',
    { config: { access: { permission: 'fleet.read' } }, schema: { tags: ['drivers'], summary: 'One driver\'s profile', params: DriverParams, response: { 200: DriverSchema, ...Errors } } },
    async (request) => {
      const driver = await fleet.getDriver(request.params.id);
      if (!inScope(request, 'fleet.read', driver.homeDepotId)) throw new RampartError('driver.not_found', 'driver not visible to caller');
      return driver;
    },
  );

  app.put(
    '/api/v1/drivers/:id',
    {
      config: { access: { permission: 'fleet.manage' } },
      schema: {
        tags: ['drivers'],
        summary: 'Create or change a driver profile: the home depot of an account with the driver role',
        params: DriverParams,
        body: Type.Object({ homeDepotId: DepotIdSchema }, { additionalProperties: false }),
        response: { 200: DriverSchema, ...Errors },
      },
    },
    async (request) => {
      depotInScope(request, request.body.homeDepotId);
      // A dispatcher moves only drivers they can already see (or new profiles).
      const current = await fleet.getDriver(request.params.id).catch((error: unknown) => {
        if (error instanceof RampartError && error.code === 'driver.not_found') return undefined;
        throw error;
      });
      if (current !== undefined && !inScope(request, 'fleet.manage', current.homeDepotId)) throw new RampartError('driver.not_found', 'driver not visible to caller');
      return fleet.setDriver(request.params.id, request.body.homeDepotId, changeOf(request));
    },
  );
}
