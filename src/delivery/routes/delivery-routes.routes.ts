import type { FastifyRequest } from 'fastify';
import type { PlaneApp } from '../../http/plane.ts';
import { can, listScope, type Permission } from '../../identity/rbac.ts';
import { RampartError } from '../../kernel/errors.ts';
import { changeOf, defined } from '../schemas.ts';
import { IdParams } from '../shipments/shipments.schema.ts';
import type { Routes } from './index.ts';
import type { Planned } from './routes.service.ts';
import { routeMap, routeResource, type RouteSummary } from './routes.store.ts';
import {
  AddStopBody,
  CreateRouteBody,
  FallbackQuery,
  HistorySchema,
  ListRoutesQuery,
  MapSchema,
  MissionBody,
  MissionParams,
  MissionSchema,
  MoveResponse,
  MoveStopBody,
  NoFlyZonesSchema,
  OptimiseBody,
  OrderBody,
  PlanDepotBody,
  PlanDepotResponse,
  RouteDetailSchema,
  RouteErrors,
  RouteListSchema,
  RouteParams,
  StopParams,
} from './routes.schema.ts';

// Routes and drone missions for dispatchers on the app plane. A route outside
// the caller's reach (another depot for a depot-scoped dispatcher, another
// driver's for a driver) answers 404 exactly like a missing one.

const withFallback = <T extends object>(planned: Planned<T>) => ({ ...planned.value, ...(planned.fallbackReason === undefined ? {} : { fallbackReason: planned.fallbackReason }) });

export function registerRouteRoutes(app: PlaneApp, routes: Routes): void {
  const { routes: service, missions, delivery } = routes;

  const visible = async (request: FastifyRequest, id: string, permission: Permission = 'route.read'): Promise<RouteSummary> => {
    const route = await service.summary(id);
    if (!can(request.actor, 'route.read', routeResource(route))) throw new RampartError('delivery_route.not_found', `route ${id} not visible to caller`);
    if (permission !== 'route.read' && !can(request.actor, permission, routeResource(route))) throw new RampartError('access.denied', `${permission} refused on route ${id}`);
    return route;
  };
  const depotInScope = (request: FastifyRequest, depotId: string) => {
    if (!can(request.actor, 'route.manage', { type: 'depot', depotId })) throw new RampartError('depot.not_found', `depot ${depotId} not visible to caller`);
  };

  app.get(
    '/api/v1/routes',
    { config: { access: { permission: 'route.read' } }, schema: { tags: ['routes'], summary: 'List routes: filter by date, driver, depot, status; newest date first', querystring: ListRoutesQuery, response: { 200: RouteListSchema, ...RouteErrors } } },
    async (request) => {
      const q = request.query;
      return service.list({ limit: q.limit, ...listScope(request.actor, 'route'), ...defined({ date: q.date, driver: q.driver, depot: q.depot, status: q.status, cursor: q.cursor }) });
    },
  );

  app.post(
    '/api/v1/routes',
    {
      config: { access: { permission: 'route.manage' } },
      schema: { tags: ['routes'], summary: 'Create a route for a driver and vehicle: assigns the shipments and orders the stops', body: CreateRouteBody, response: { 201: RouteDetailSchema, ...RouteErrors } },
    },
    async (request, reply) => {
      const body = request.body;
      const driver = await delivery.fleet.getDriver(body.driverId);
      if (!can(request.actor, 'route.manage', { type: 'depot', depotId: driver.homeDepotId })) throw new RampartError('driver.not_found', 'driver not visible to caller');
      const created = await service.create({ driverId: body.driverId, vehicleId: body.vehicleId, date: body.date, shipmentIds: body.shipmentIds, optimise: body.optimise, fallback: body.fallback }, changeOf(request));
      return reply.code(201).send(withFallback(created));
    },
  );

  app.post(
    '/api/v1/routes/plan',
    {
      config: { access: { permission: 'route.manage' } },
      schema: { tags: ['routes'], summary: 'Plan a depot\'s day: share its unassigned truck shipments among its free drivers (sweep by bearing) and optimise each route', body: PlanDepotBody, response: { 201: PlanDepotResponse, ...RouteErrors } },
    },
    async (request, reply) => {
      depotInScope(request, request.body.depotId);
      const planned = await service.planDepot(request.body.depotId, request.body.date, request.body.fallback, changeOf(request));
      return reply.code(201).send({ routes: planned.value, ...(planned.fallbackReason === undefined ? {} : { fallbackReason: planned.fallbackReason }) });
    },
  );

  app.get(
    '/api/v1/routes/:id',
    { config: { access: { permission: 'route.read' } }, schema: { tags: ['routes'], summary: 'One route: its stops in order with tracking numbers, windows, ETAs and statuses; totals', params: RouteParams, response: { 200: RouteDetailSchema, ...RouteErrors } } },
    async (request) => {
      await visible(request, request.params.id);
      return service.get(request.params.id);
    },
  );

  app.get(
    '/api/v1/routes/:id/map',
    { config: { access: { permission: 'route.read' } }, schema: { tags: ['routes'], summary: 'The route as GeoJSON for a map: the depot, the stops in order, the path', params: RouteParams, response: { 200: MapSchema, ...RouteErrors } } },
    async (request, reply) => {
      await visible(request, request.params.id);
      return reply.type('application/geo+json').send(routeMap(await service.get(request.params.id)));
    },
  );

  app.get(
    '/api/v1/routes/:id/history',
    { config: { access: { permission: 'route.read' } }, schema: { tags: ['routes'], summary: 'Every change to the route, oldest first, with the order before and after', params: RouteParams, response: { 200: HistorySchema, ...RouteErrors } } },
    async (request) => {
      await visible(request, request.params.id);
      return { items: await service.history(request.params.id) };
    },
  );

  app.put(
    '/api/v1/routes/:id/order',
    { config: { access: { permission: 'route.manage' } }, schema: { tags: ['routes'], summary: 'Put the pending stops in a new order; ETAs and totals are recomputed', params: RouteParams, body: OrderBody, response: { 200: RouteDetailSchema, ...RouteErrors } } },
    async (request) => {
      await visible(request, request.params.id, 'route.manage');
      return withFallback(await service.reorder(request.params.id, request.body.stopIds, request.body.fallback, changeOf(request), request.body.revision));
    },
  );

  app.post(
    '/api/v1/routes/:id/optimise',
    { config: { access: { permission: 'route.manage' } }, schema: { tags: ['routes'], summary: 'Order the pending stops with the planner', params: RouteParams, body: OptimiseBody, response: { 200: RouteDetailSchema, ...RouteErrors } } },
    async (request) => {
      await visible(request, request.params.id, 'route.manage');
      return withFallback(await service.optimise(request.params.id, request.body.fallback, changeOf(request)));
    },
  );

  app.post(
    '/api/v1/routes/:id/stops',
    { config: { access: { permission: 'route.manage' } }, schema: { tags: ['routes'], summary: 'Add a shipment as the last stop of a planned route (assigned to its driver)', params: RouteParams, body: AddStopBody, response: { 200: RouteDetailSchema, ...RouteErrors } } },
    async (request) => {
      await visible(request, request.params.id, 'route.manage');
      return withFallback(await service.addStop(request.params.id, request.body.shipmentId, request.body.fallback, changeOf(request)));
    },
  );

  app.delete(
    '/api/v1/routes/:id/stops/:stopId',
    { config: { access: { permission: 'route.manage' } }, schema: { tags: ['routes'], summary: 'Remove a pending stop from a planned route; its shipment is unassigned', params: StopParams, querystring: FallbackQuery, response: { 200: RouteDetailSchema, ...RouteErrors } } },
    async (request) => {
      await visible(request, request.params.id, 'route.manage');
      return withFallback(await service.removeStop(request.params.id, request.params.stopId, request.query.fallback, changeOf(request)));
    },
  );

  app.post(
    '/api/v1/routes/:id/stops/:stopId/move',
    {
      config: { access: { permission: 'route.manage' } },
      schema: { tags: ['routes'], summary: 'Move a pending stop to another driver\'s planned route of the same depot and date', params: StopParams, body: MoveStopBody, response: { 200: MoveResponse, ...RouteErrors } },
    },
    async (request) => {
      await visible(request, request.params.id, 'route.manage');
      await visible(request, request.body.routeId, 'route.manage');
      const moved = await service.moveStop(request.params.id, request.params.stopId, request.body.routeId, request.body.fallback, changeOf(request));
      return { ...moved.value, ...(moved.fallbackReason === undefined ? {} : { fallbackReason: moved.fallbackReason }) };
    },
  );

  app.post(
    '/api/v1/shipments/:id/mission',
    {
      config: { access: { permission: 'route.manage' } },
      schema: { tags: ['missions'], summary: 'Plan a drone mission for a drone delivery; refused (422) with every reason it cannot fly', params: IdParams, body: MissionBody, response: { 201: MissionSchema, ...RouteErrors } },
    },
    async (request, reply) => {
      const shipment = await delivery.shipments.get(request.params.id);
      if (!can(request.actor, 'route.manage', { type: 'shipment', id: shipment.id, depotId: shipment.depotId })) throw new RampartError('shipment.not_found', `shipment ${shipment.id} not visible to caller`);
      return reply.code(201).send(await missions.plan(shipment.id, request.body.droneId, changeOf(request)));
    },
  );

  app.get(
    '/api/v1/missions/:id',
    { config: { access: { permission: 'route.read' } }, schema: { tags: ['missions'], summary: 'One drone mission and its document', params: MissionParams, response: { 200: MissionSchema, ...RouteErrors } } },
    async (request) => {
      const mission = await missions.get(request.params.id);
      // A mission belongs to no account, so `can` shows it to no driver.
      if (!can(request.actor, 'route.read', { type: 'drone_mission', id: mission.id, depotId: mission.depotId })) throw new RampartError('drone_mission.not_found', 'mission not visible to caller');
      return mission;
    },
  );

  app.get(
    '/api/v1/no-fly-zones',
    { config: { access: { permission: 'route.read' } }, schema: { tags: ['missions'], summary: 'The configured no-fly zones every drone mission is checked against (read-only; set in planning.noFlyZones)', response: { 200: NoFlyZonesSchema, ...RouteErrors } } },
    () => ({ items: missions.noFlyZones().map((zone) => ({ name: zone.name, area: { type: 'Polygon' as const, coordinates: zone.polygon.map((ring) => ring.map(([lon, lat]) => [lon, lat])) } })) }),
  );

  app.post(
    '/api/v1/missions/:id/send',
    { config: { access: { permission: 'route.manage' } }, schema: { tags: ['missions'], summary: 'Send the mission to the drone over MQTT (409 when it is not connected)', params: MissionParams, response: { 200: MissionSchema, ...RouteErrors } } },
    async (request) => {
      const mission = await missions.get(request.params.id);
      if (!can(request.actor, 'route.manage', { type: 'drone_mission', id: mission.id, depotId: mission.depotId })) throw new RampartError('drone_mission.not_found', 'mission not visible to caller');
      return missions.send(mission.id, changeOf(request));
    },
  );
}
