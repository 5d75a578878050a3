import Type from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { PlaneApp } from '../../http/plane.ts';
import { can, listScope } from '../../identity/rbac.ts';
import { RampartError } from '../../kernel/errors.ts';
import { changeOf, defined, DepotIdSchema, Errors, LimitSchema, NameSchema, NextCursor, PointSchema, SearchSchema, ServiceAreaSchema } from '../schemas.ts';
import type { DepotRegistry, DepotView } from './depots.service.ts';

// Depots on the app plane. A depot outside a dispatcher's scope answers 404
// exactly like one that does not exist.

const DepotSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  location: Type.Object({ lat: Type.Number(), lon: Type.Number() }),
  serviceArea: Type.Union([Type.Object({ type: Type.Literal('Polygon'), coordinates: Type.Array(Type.Array(Type.Array(Type.Number()))) }), Type.Null()]),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
const IdParams = Type.Object({ id: DepotIdSchema }, { additionalProperties: false });

export function registerDepotRoutes(app: PlaneApp, depots: DepotRegistry): void {
  const visible = async (request: FastifyRequest, id: string, permission: 'depot.read' | 'depot.manage' = 'depot.read'): Promise<DepotView> => {
    const depot = await depots.get(id);
    if (!can(request.actor, permission, { type: 'depot', id, depotId: id })) throw new RampartError('depot.not_found', `depot ${id} not visible to caller`);
    return depot;
  };

  app.get(
    '/api/v1/depots',
    {
      config: { access: { permission: 'depot.read' } },
      schema: {
        tags: ['depots'],
        summary: 'List depots (search, paginate by id)',
        querystring: Type.Object({ q: Type.Optional(SearchSchema), limit: LimitSchema, cursor: Type.Optional(DepotIdSchema) }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(DepotSchema), nextCursor: NextCursor }), ...Errors },
      },
    },
    async (request) => depots.list({ limit: request.query.limit, ...defined({ q: request.query.q, cursor: request.query.cursor, depots: listScope(request.actor, 'depot').depots }) }),
  );

  app.post(
    '/api/v1/depots',
    {
      config: { access: { permission: 'depot.manage' } },
      schema: {
        tags: ['depots'],
        summary: 'Create a depot',
        body: Type.Object({ id: DepotIdSchema, name: NameSchema, location: PointSchema, serviceArea: Type.Optional(Type.Union([ServiceAreaSchema, Type.Null()])) }, { additionalProperties: false }),
        response: { 201: DepotSchema, ...Errors },
      },
    },
    async (request, reply) => reply.code(201).send(await depots.add(request.body, changeOf(request))),
  );

  app.get(
    '/api/v1/depots/:id',
    { config: { access: { permission: 'depot.read' } }, schema: { tags: ['depots'], summary: 'One depot', params: IdParams, response: { 200: DepotSchema, ...Errors } } },
    async (request) => visible(request, request.params.id),
  );

  app.patch(
    '/api/v1/depots/:id',
    {
      config: { access: { permission: 'depot.manage' } },
      schema: {
        tags: ['depots'],
        summary: 'Change a depot\'s name, location or service area (null removes the area)',
        params: IdParams,
        body: Type.Object({ name: Type.Optional(NameSchema), location: Type.Optional(PointSchema), serviceArea: Type.Optional(Type.Union([ServiceAreaSchema, Type.Null()])) }, { additionalProperties: false, minProperties: 1 }),
        response: { 200: DepotSchema, ...Errors },
      },
    },
    async (request) => {
      await visible(request, request.params.id, 'depot.manage');
      return depots.update(request.params.id, request.body, changeOf(request));
    },
  );
}
