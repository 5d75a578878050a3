import Type from 'typebox';
import { ProblemSchema } from '../../http/problem.ts';
import { ACCOUNT_ID_PATTERN } from '../checks.ts';
import { DepotIdSchema, Errors, LimitSchema, NextCursor, UnitIdSchema } from '../schemas.ts';
import { ShipmentIdSchema } from '../shipments/shipments.schema.ts';

// The route API's request and response shapes. Unknown properties are refused everywhere.

export const RouteErrors = { ...Errors, 422: ProblemSchema, 502: ProblemSchema };
export const RouteIdSchema = Type.String({ pattern: '^rte_[A-Za-z0-9_-]{22}$' });
export const StopIdSchema = Type.String({ pattern: '^stp_[A-Za-z0-9_-]{22}$' });
export const MissionIdSchema = Type.String({ pattern: '^msn_[A-Za-z0-9_-]{22}$' });
export const DateSchema = Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$', description: 'Service date, YYYY-MM-DD (UTC).' });
const Fallback = Type.Boolean({ default: false, description: 'When the OSRM server fails, plan with great-circle distances instead of answering 502; the answer then names the provider and `fallbackReason`.' });
const RouteStatus = Type.Enum(['planned', 'in_progress', 'completed', 'cancelled']);
const StopStatus = Type.Enum(['pending', 'arrived', 'delivered', 'failed', 'removed']);

export const RouteParams = Type.Object({ id: RouteIdSchema }, { additionalProperties: false });
export const StopParams = Type.Object({ id: RouteIdSchema, stopId: StopIdSchema }, { additionalProperties: false });
export const FallbackQuery = Type.Object({ fallback: Fallback }, { additionalProperties: false });

export const CreateRouteBody = Type.Object(
  {
    driverId: Type.String({ pattern: ACCOUNT_ID_PATTERN }),
    vehicleId: UnitIdSchema,
    date: DateSchema,
    shipmentIds: Type.Array(ShipmentIdSchema, { minItems: 1, maxItems: 99, uniqueItems: true }),
    optimise: Type.Boolean({ default: true, description: 'Order the stops with the planner; false keeps the order given.' }),
    fallback: Fallback,
  },
  { additionalProperties: false },
);
export const PlanDepotBody = Type.Object({ depotId: DepotIdSchema, date: DateSchema, fallback: Fallback }, { additionalProperties: false });
export const OrderBody = Type.Object(
  {
    stopIds: Type.Array(StopIdSchema, { minItems: 1, maxItems: 99, uniqueItems: true, description: 'Every pending stop, in the new order.' }),
    revision: Type.Optional(Type.Integer({ minimum: 1, description: 'The route revision this order was made against; when the route has moved on since, the change is refused (409) and nothing changes.' })),
    fallback: Fallback,
  },
  { additionalProperties: false },
);
export const OptimiseBody = Type.Object({ fallback: Fallback }, { additionalProperties: false });
export const AddStopBody = Type.Object({ shipmentId: ShipmentIdSchema, fallback: Fallback }, { additionalProperties: false });
export const MoveStopBody = Type.Object({ routeId: RouteIdSchema, fallback: Fallback }, { additionalProperties: false });

export const ListRoutesQuery = Type.Object(
  {
    date: Type.Optional(DateSchema),
    driver: Type.Optional(Type.String({ pattern: ACCOUNT_ID_PATTERN })),
    depot: Type.Optional(DepotIdSchema),
    status: Type.Optional(RouteStatus),
    limit: LimitSchema,
    cursor: Type.Optional(Type.String({ maxLength: 400 })),
  },
  { additionalProperties: false },
);

const Window = Type.Object({ start: Type.String(), end: Type.String() });
const Point = Type.Object({ lat: Type.Number(), lon: Type.Number() });

export const RouteSummarySchema = Type.Object({
  id: Type.String(),
  depotId: Type.String(),
  driverId: Type.String(),
  vehicleId: Type.String(),
  date: Type.String(),
  status: RouteStatus,
  provider: Type.Enum(['osrm', 'great-circle']),
  totalDistanceMetres: Type.Number(),
  totalDurationSeconds: Type.Number(),
  departureAt: Type.String(),
  returnAt: Type.String(),
  plannedAt: Type.String(),
  startedAt: Type.Union([Type.String(), Type.Null()]),
  completedAt: Type.Union([Type.String(), Type.Null()]),
  revision: Type.Integer(),
});

export const StopSchema = Type.Object({
  id: Type.String(),
  sequence: Type.Integer(),
  shipmentId: Type.String(),
  trackingNumber: Type.String(),
  status: StopStatus,
  destination: Point,
  window: Window,
  eta: Type.String({ description: 'Planned start of service: arrival, or the window\'s opening when early.' }),
  departureAt: Type.String(),
  latenessSeconds: Type.Number(),
  legDistanceMetres: Type.Number(),
  legDurationSeconds: Type.Number(),
  arrivedAt: Type.Union([Type.String(), Type.Null()]),
});

export const RouteDetailSchema = Type.Object({ ...RouteSummarySchema.properties, depot: Point, stops: Type.Array(StopSchema), fallbackReason: Type.Optional(Type.String()) });
export const RouteListSchema = Type.Object({ items: Type.Array(RouteSummarySchema), nextCursor: NextCursor });
export const PlanDepotResponse = Type.Object({ routes: Type.Array(RouteDetailSchema), fallbackReason: Type.Optional(Type.String()) });
export const MoveResponse = Type.Object({ from: RouteDetailSchema, to: RouteDetailSchema, fallbackReason: Type.Optional(Type.String()) });

export const HistorySchema = Type.Object({
  items: Type.Array(
    Type.Object({
      seq: Type.Integer(),
      kind: Type.String(),
      actor: Type.Object({ type: Type.String(), id: Type.Union([Type.String(), Type.Null()]) }),
      at: Type.String(),
      before: Type.Union([Type.Array(Type.String()), Type.Null()]),
      after: Type.Union([Type.Array(Type.String()), Type.Null()]),
      details: Type.Record(Type.String(), Type.Unknown()),
    }),
  ),
});

/** GeoJSON FeatureCollection: the depot, each stop in order, then the path (positions [lon, lat]). */
export const MapSchema = Type.Object({
  type: Type.Literal('FeatureCollection'),
  features: Type.Array(Type.Unknown(), { description: 'Features: the depot (Point, kind depot), each stop in visiting order (Point, kind stop: sequence, stopId, shipmentId, trackingNumber, window, eta), then the path (LineString, kind path: provider, distanceMetres, durationSeconds).' }),
});

export const MissionSchema = Type.Object({
  id: Type.String(),
  shipmentId: Type.String(),
  droneId: Type.String(),
  depotId: Type.String(),
  status: Type.Enum(['planned', 'sent']),
  mission: Type.Unknown({ description: 'The mission document sent to the drone (type rampart.drone-mission, waypoints…).' }),
  createdAt: Type.String(),
  sentAt: Type.Union([Type.String(), Type.Null()]),
});
export const MissionBody = Type.Object({ droneId: UnitIdSchema }, { additionalProperties: false });
export const MissionParams = Type.Object({ id: MissionIdSchema }, { additionalProperties: false });

/** The configured no-fly zones (`planning.noFlyZones`), in name order. */
export const NoFlyZonesSchema = Type.Object({
  items: Type.Array(
    Type.Object({
      name: Type.String(),
      area: Type.Object({ type: Type.Literal('Polygon'), coordinates: Type.Array(Type.Array(Type.Array(Type.Number())), { description: 'GeoJSON Polygon rings of [lon, lat] positions: the outer ring, then any holes.' }) }),
    }),
  ),
});
