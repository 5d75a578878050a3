import Type from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { PlaneApp } from '../../http/plane.ts';
import { ProblemSchema } from '../../http/problem.ts';
import { can } from '../../identity/rbac.ts';
import { RampartError } from '../../kernel/errors.ts';
import type { EventLog } from '../../stream/event-log.ts';
import { loadDriver } from '../fleet/fleet.service.ts';
import type { Routes } from '../routes/index.ts';
import { DateSchema, MapSchema, RouteDetailSchema, RouteErrors, RouteIdSchema, StopIdSchema } from '../routes/routes.schema.ts';
import { routeMap, routeResource, type RouteDetail } from '../routes/routes.store.ts';
import { changeOf } from '../schemas.ts';
import { ReasonSchema } from '../shipments/shipments.schema.ts';
import { shipmentResource } from '../shipments/shipments.routes.ts';
import { MAX_NOTE_LENGTH } from '../shipments/status.ts';
import { SourceRateLimit, type RateLimitSettings } from '../../perimeter/rate-limit.ts';
import { LOCATION_HUB, locationEvent } from './location.ts';

// The driver app's API: the driver's own route of the day with its map, what
// is needed at the door, starting the route, arriving, failed attempts and
// location pings. Everything is the caller's own: another driver's route or
// stop answers 404 exactly like a missing one. Delivery itself is proof of
// delivery (it calls markStopDelivered).

const StopIdParams = Type.Object({ stopId: StopIdSchema }, { additionalProperties: false });
const DoorSchema = Type.Object({
  stop: Type.Object({ id: Type.String(), routeId: Type.String(), sequence: Type.Integer(), status: Type.String(), eta: Type.String(), window: Type.Object({ start: Type.String(), end: Type.String() }), destination: Type.Object({ lat: Type.Number(), lon: Type.Number() }) }),
  shipment: Type.Object({ id: Type.String(), trackingNumber: Type.String(), status: Type.String(), requiredProof: Type.Array(Type.String()) }),
  recipient: Type.Union([Type.Object({ name: Type.String(), phone: Type.Union([Type.String(), Type.Null()]), address: Type.String() }), Type.Null()]),
});
const LocationBody = Type.Object(
  {
    lat: Type.Number({ minimum: -90, maximum: 90 }),
    lon: Type.Number({ minimum: -180, maximum: 180 }),
    accuracyM: Type.Number({ minimum: 0, maximum: 100_000, description: 'Radius of the fix\'s 68 % confidence, metres.' }),
    speed: Type.Optional(Type.Number({ minimum: 0, maximum: 70, description: 'Metres per second.' })),
    heading: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 360 })),
    timestamp: Type.String({ format: 'date-time', maxLength: 40, description: 'When the fix was taken (RFC 3339 with zone).' }),
  },
  { additionalProperties: false },
);

export interface DriverRouteDeps {
  readonly routes: Routes;
  readonly eventLog: EventLog;
  readonly maxEventBytes: number;
  /** `perimeter.rateLimits.driver`: location pings per driver account. */
  readonly rateLimit: RateLimitSettings;
}

export function registerDriverRoutes(app: PlaneApp, deps: DriverRouteDeps): SourceRateLimit {
  const { routes: service, progress, delivery, clock } = deps.routes;
  const { eventLog } = deps;
  const limiter = new SourceRateLimit({ clock, limit: deps.rateLimit });

  /** The caller's own route, or the same 404 as a missing one. */
  const ownRoute = async (request: FastifyRequest, routeId: string): Promise<RouteDetail> => {
    const actor = request.actor;
    const route = await service.get(routeId).catch((error: unknown) => {
      throw error instanceof RampartError && error.code === 'delivery_route.not_found' ? new RampartError('delivery_route.not_found', `no route ${routeId}`) : error;
    });
    if (actor?.kind !== 'account' || route.driverId !== actor.id || !can(actor, 'route.read', routeResource(route))) throw new RampartError('delivery_route.not_found', `route ${routeId} not the caller's`);
    return route;
  };
  /** The caller's own stop with its route, or the same 404 as a missing one. */
  const ownStop = async (request: FastifyRequest, stopId: string) => {
    const row = await delivery.db.selectFrom('route_stops').select(['route_id']).where('id', '=', stopId).where('status', '!=', 'removed').executeTakeFirst();
    const missing = () => new RampartError('delivery_route.stop_not_found', `stop ${stopId} not the caller's`);
    if (row === undefined) throw missing();
    const route = await ownRoute(request, row.route_id).catch((error: unknown) => {
      throw error instanceof RampartError && error.code === 'delivery_route.not_found' ? missing() : error;
    });
    const stop = route.stops.find((s) => s.id === stopId);
    if (stop === undefined) throw missing();
    return { route, stop };
  };
  const today = () => clock.now().toISOString().slice(0, 10);

  app.get(
    '/api/v1/driver/route',
    {
      config: { access: { permission: 'route.read' } },
      schema: {
        tags: ['driver'],
        summary: 'The caller\'s route of the day (default today, UTC) with its stops in order and the GeoJSON map',
        querystring: Type.Object({ date: Type.Optional(DateSchema) }, { additionalProperties: false }),
        response: { 200: Type.Object({ route: RouteDetailSchema, map: MapSchema }), ...RouteErrors },
      },
    },
    async (request) => {
      const actor = request.actor;
      const date = request.query.date ?? today();
      const route = actor?.kind === 'account' ? await service.forDriver(actor.id, date) : undefined;
      if (route === undefined) throw new RampartError('delivery_route.not_found', `no route on ${date} for the caller`);
      return { route, map: routeMap(route) };
    },
  );

  app.get(
    '/api/v1/driver/stops/:stopId',
    { config: { access: { permission: 'route.read' } }, schema: { tags: ['driver'], summary: 'One of the caller\'s stops with what is needed at the door: recipient, address, required proof, window', params: StopIdParams, response: { 200: DoorSchema, ...RouteErrors } } },
    async (request) => {
      const { route, stop } = await ownStop(request, request.params.stopId);
      const shipment = await delivery.shipments.get(stop.shipmentId);
      // Decrypted after the queries, outside any transaction.
      const recipient = can(request.actor, 'shipment.recipient.read', shipmentResource(shipment)) ? await delivery.shipments.recipient(shipment.id) : null;
      return {
        stop: { id: stop.id, routeId: route.id, sequence: stop.sequence, status: stop.status, eta: stop.eta, window: stop.window, destination: stop.destination },
        shipment: { id: shipment.id, trackingNumber: shipment.trackingNumber, status: shipment.status, requiredProof: shipment.requiredProof },
        recipient,
      };
    },
  );

  app.post(
    '/api/v1/driver/route/start',
    {
      config: { access: { permission: 'shipment.progress' } },
      schema: { tags: ['driver'], summary: 'Start the caller\'s planned route: every pending stop\'s shipment goes out for delivery', body: Type.Object({ routeId: RouteIdSchema }, { additionalProperties: false }), response: { 200: RouteDetailSchema, ...RouteErrors } },
    },
    async (request) => {
      const route = await ownRoute(request, request.body.routeId);
      await progress.start(route.id, changeOf(request));
      return service.get(route.id);
    },
  );

  app.post(
    '/api/v1/driver/stops/:stopId/arrive',
    { config: { access: { permission: 'shipment.progress' } }, schema: { tags: ['driver'], summary: 'Record arrival at one of the caller\'s stops', params: StopIdParams, response: { 200: RouteDetailSchema, ...RouteErrors } } },
    async (request) => {
      const { route, stop } = await ownStop(request, request.params.stopId);
      await progress.arrive(route.id, stop.id, changeOf(request));
      return service.get(route.id);
    },
  );

  app.post(
    '/api/v1/driver/stops/:stopId/fail',
    {
      config: { access: { permission: 'shipment.progress' } },
      schema: {
        tags: ['driver'],
        summary: 'A failed delivery attempt at one of the caller\'s stops, with the reason (and a note, encrypted)',
        params: StopIdParams,
        body: Type.Object({ reason: ReasonSchema, note: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_NOTE_LENGTH, description: 'Required with reason `other`; encrypted; never in the audit trail.' })) }, { additionalProperties: false }),
        response: { 200: RouteDetailSchema, ...RouteErrors },
      },
    },
    async (request) => {
      const { route, stop } = await ownStop(request, request.params.stopId);
      await progress.fail(route.id, stop.id, request.body.reason, request.body.note, changeOf(request));
      return service.get(route.id);
    },
  );

  app.post(
    '/api/v1/driver/location',
    {
      config: { access: { permission: 'route.read' } },
      schema: {
        tags: ['driver'],
        summary: 'A location ping from the driver app, stored in the truck-telemetry hub (202 once durable)',
        body: LocationBody,
        response: { 202: Type.Object({ hub: Type.String(), partition: Type.Integer(), sequence: Type.Integer(), flagged: Type.Boolean() }), 429: ProblemSchema, ...RouteErrors },
      },
    },
    async (request, reply) => {
      const actor = request.actor;
      if (actor?.kind !== 'account') throw new RampartError('driver.not_found', 'not an account');
      const driver = await loadDriver(delivery.db, actor.id);
      const wait = limiter.take(driver.accountId);
      if (wait > 0) throw new RampartError('driver.location_rate_limited', `driver ${driver.accountId} over the ping limit`, { retryAfterSeconds: wait });
      const rules = eventLog.hubs.get(LOCATION_HUB);
      if (rules === undefined) throw new RampartError('ingest.unknown_hub', `no hub ${LOCATION_HUB}`);
      const route = await service.forDriver(driver.accountId, today());
      const active = route !== undefined && (route.status === 'planned' || route.status === 'in_progress') ? route : undefined;
      const event = locationEvent(driver.accountId, request.body, rules, { maxEventBytes: deps.maxEventBytes }, { routeId: active?.id, vehicleId: active?.vehicleId });
      const [position] = await eventLog.append(LOCATION_HUB, [{ publisher: event.publisher, contentType: event.contentType, properties: event.properties, body: event.body, ...(event.messageId === undefined ? {} : { messageId: event.messageId }) }]);
      if (position === undefined) throw new Error('append returned no position');
      return reply.code(202).send({ hub: LOCATION_HUB, partition: position.partition, sequence: position.sequence, flagged: event.properties['rampart-schema-invalid'] === 'true' });
    },
  );

  return limiter;
}
