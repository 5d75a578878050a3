// Route planning and drone missions: pure domain code plus the OSRM adapter.
// No database and no HTTP routes; callers pass configuration, a clock and the
// shipments' stops, and get plans, map payloads and mission documents back.
//
//   planRoute(problem, provider, {signal})  → PlannedRoute (async: fetches the matrix)
//   optimiseRoute(problem, matrix)          → PlannedRoute (sync, matrix in hand)
//   timeInOrder(problem, matrix)            → PlannedRoute (sync, the stops' order kept)
//   routeFeatureCollection(route)           → GeoJSON for Leaflet
//   planDroneMission(request, settings, {clock}) → DroneMission, or MissionRefusedError
//   encodeDroneMission(mission)             → bytes for the drone's device-bound MQTT topic
//
// Errors: PlanningInputError (`planning.invalid_input`), RoutingError
// (`planning.routing_failed`, with `reason`), MissionRefusedError
// (`planning.mission_refused`, with `reasons`). docs/OPERATIONS.md, "Route
// planning", describes the heuristic and its bound.

export { encodeDroneMission, missionRefusals, planDroneMission } from './drone-mission.ts';
export type { DroneCapabilities, DroneMission, DroneMissionRequest, DroneMissionSettings, MissionDependencies, MissionWaypoint, NoFlyZone, WaypointAction } from './drone-mission.ts';
export { MissionRefusedError, PlanningInputError, RoutingError } from './errors.ts';
export type { MissionRefusal, RoutingFailure, UnreachablePair } from './errors.ts';
export { crossesAntimeridian, distanceMetres, pointInPolygon, segmentIntersectsPolygon } from './geo.ts';
export type { GeoPoint, PolygonCoordinates, Position } from './geo.ts';
export { greatCircleMatrixProvider, MAX_LOCATIONS } from './matrix.ts';
export type { GreatCircleOptions, MatrixLocation, MatrixProvider, MatrixProviderName, MatrixRequestOptions, TravelMatrix } from './matrix.ts';
export { DEPOT_LOCATION_ID, optimiseRoute, planRoute, timeInOrder } from './optimise.ts';
export type { PlannedRoute, PlannedStop, RouteLeg } from './optimise.ts';
export { osrmMatrixProvider, osrmTableUrl } from './osrm.ts';
export type { OsrmOptions } from './osrm.ts';
export { routeFeatureCollection } from './route-map.ts';
export type { DepotProperties, PathProperties, RouteFeatureCollection, StopProperties } from './route-map.ts';
export { LATENESS_PENALTY_METRES_PER_SECOND } from './schedule.ts';
export { defaultServiceSecondsFor, droneMissionSettingsFor, greatCircleProviderFor, matrixProviderFor } from './settings.ts';
export type { PlanningConfig } from './settings.ts';
export { MAX_ROUTE_STOPS, MAX_SERVICE_SECONDS } from './validate.ts';
export type { RouteProblem, RouteStop, TimeInput } from './validate.ts';
export { polygonProblems } from './zones.ts';
