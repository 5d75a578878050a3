import type { Clock } from '../../kernel/clock.ts';
import { canonicalJson } from '../../kernel/canonical-json.ts';
import { newId } from '../../kernel/ids.ts';
import { MissionRefusedError, PlanningInputError, type MissionRefusal } from './errors.ts';
import { crossesAntimeridian, distanceMetres, pointInPolygon, pointProblems, segmentIntersectsPolygon, type GeoPoint, type PolygonCoordinates } from './geo.ts';

// Drone missions: depot → drop point → depot along straight legs at one cruise
// altitude. A mission is refused with every reason found: a leg entering a
// no-fly zone (or an endpoint inside one), a round trip beyond the drone's
// range less the reserve, a parcel above its payload limit.

export interface NoFlyZone {
  readonly name: string;
  readonly polygon: PolygonCoordinates;
}

export interface DroneMissionSettings {
  readonly cruiseSpeedKmh: number;
  /** Metres above the take-off point. */
  readonly cruiseAltitudeM: number;
  /** Share of the drone's range kept in reserve, 0–100. */
  readonly rangeReservePercent: number;
  readonly noFlyZones: readonly NoFlyZone[];
}

export interface DroneCapabilities {
  /** Distance on a full charge, in km. */
  readonly maxRangeKm: number;
  readonly maxPayloadKg: number;
}

export interface DroneMissionRequest {
  readonly shipmentId: string;
  /** The drone's device id: the mission goes to its device-bound MQTT topic. */
  readonly droneId: string;
  readonly drone: DroneCapabilities;
  readonly depot: GeoPoint;
  readonly drop: GeoPoint;
  readonly parcelWeightKg: number;
}

export type WaypointAction = 'takeoff' | 'cruise' | 'drop' | 'return' | 'land';

export interface MissionWaypoint {
  readonly sequence: number;
  readonly action: WaypointAction;
  readonly lat: number;
  readonly lon: number;
  /** Metres above the take-off point. */
  readonly altitudeM: number;
}

/** The document sent to the drone (see encodeDroneMission). */
export interface DroneMission {
  readonly type: 'rampart.drone-mission';
  readonly version: 1;
  readonly missionId: string;
  readonly droneId: string;
  readonly shipmentId: string;
  readonly createdAt: string;
  readonly cruiseAltitudeM: number;
  readonly cruiseSpeedMps: number;
  /** Horizontal distance of the round trip. */
  readonly distanceMetres: number;
  /** Round trip at cruise speed; climb, descent and the drop itself are not included. */
  readonly estimatedDurationSeconds: number;
  readonly waypoints: readonly MissionWaypoint[];
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

function requestProblems(request: DroneMissionRequest): string[] {
  const problems = [...pointProblems(request.depot, 'depot'), ...pointProblems(request.drop, 'drop')];
  for (const [field, value] of [['shipmentId', request.shipmentId], ['droneId', request.droneId]] as const) {
    if (typeof value !== 'string' || value.length === 0 || value.length > 128) problems.push(`${field}: must be 1 to 128 characters`);
  }
  const positive = (value: number, at: string) => {
    if (!Number.isFinite(value) || value <= 0) problems.push(`${at}: must be a positive number`);
  };
  positive(request.parcelWeightKg, 'parcelWeightKg');
  positive(request.drone.maxRangeKm, 'drone.maxRangeKm');
  positive(request.drone.maxPayloadKg, 'drone.maxPayloadKg');
  if (problems.length === 0 && crossesAntimeridian(request.depot, request.drop)) problems.push('drop: legs crossing the antimeridian (±180°) are not supported');
  return problems;
}

/** Every rule the mission breaks; empty when it may fly. Throws PlanningInputError for malformed input. */
export function missionRefusals(request: DroneMissionRequest, settings: DroneMissionSettings): MissionRefusal[] {
  const problems = requestProblems(request);
  if (problems.length > 0) throw new PlanningInputError(problems);
  const reasons: MissionRefusal[] = [];
  for (const zone of settings.noFlyZones) {
    if (!segmentIntersectsPolygon(request.depot, request.drop, zone.polygon)) continue;
    const depotInside = pointInPolygon(request.depot, zone.polygon);
    const dropInside = pointInPolygon(request.drop, zone.polygon);
    const where = depotInside && dropInside ? 'the depot and the drop point lie inside it' : depotInside ? 'the depot lies inside it' : dropInside ? 'the drop point lies inside it' : 'the straight leg crosses it';
    reasons.push({ kind: 'no_fly', zone: zone.name, depotInside, dropInside, message: `no-fly zone "${zone.name}": ${where}` });
  }
  const neededKm = round((2 * distanceMetres(request.depot, request.drop)) / 1000, 3);
  const availableKm = round(request.drone.maxRangeKm * (1 - settings.rangeReservePercent / 100), 3);
  if (neededKm > availableKm) {
    reasons.push({
      kind: 'range',
      neededKm,
      availableKm,
      maxRangeKm: request.drone.maxRangeKm,
      reservePercent: settings.rangeReservePercent,
      message: `range: the round trip is ${neededKm} km but the drone may fly ${availableKm} km (${request.drone.maxRangeKm} km less a ${settings.rangeReservePercent} % reserve)`,
    });
  }
  if (request.parcelWeightKg > request.drone.maxPayloadKg) {
    reasons.push({
      kind: 'payload',
      weightKg: request.parcelWeightKg,
      maxPayloadKg: request.drone.maxPayloadKg,
      message: `payload: the parcel weighs ${request.parcelWeightKg} kg but the drone carries at most ${request.drone.maxPayloadKg} kg`,
    });
  }
  return reasons;
}

export interface MissionDependencies {
  readonly clock: Clock;
  /** Mission ids; CSPRNG `msn_…` ids by default. */
  readonly newMissionId?: () => string;
}

/** Plans the mission, or throws MissionRefusedError listing every reason (PlanningInputError for malformed input). */
export function planDroneMission(request: DroneMissionRequest, settings: DroneMissionSettings, dependencies: MissionDependencies): DroneMission {
  const reasons = missionRefusals(request, settings);
  if (reasons.length > 0) throw new MissionRefusedError(reasons);
  const cruiseSpeedMps = settings.cruiseSpeedKmh / 3.6;
  const distance = 2 * distanceMetres(request.depot, request.drop);
  const altitude = settings.cruiseAltitudeM;
  const at = (sequence: number, action: WaypointAction, point: GeoPoint, altitudeM: number): MissionWaypoint => ({ sequence, action, lat: point.lat, lon: point.lon, altitudeM });
  return {
    type: 'rampart.drone-mission',
    version: 1,
    missionId: (dependencies.newMissionId ?? (() => newId('msn')))(),
    droneId: request.droneId,
    shipmentId: request.shipmentId,
    createdAt: dependencies.clock.now().toISOString(),
    cruiseAltitudeM: altitude,
    cruiseSpeedMps: round(cruiseSpeedMps, 3),
    distanceMetres: round(distance, 1),
    estimatedDurationSeconds: Math.ceil(distance / cruiseSpeedMps),
    waypoints: [
      at(1, 'takeoff', request.depot, altitude),
      at(2, 'cruise', request.drop, altitude),
      at(3, 'drop', request.drop, altitude),
      at(4, 'return', request.depot, altitude),
      at(5, 'land', request.depot, 0),
    ],
  };
}

/** The mission as the bytes published to the drone: canonical JSON (sorted keys), so the same mission is always the same message. */
export function encodeDroneMission(mission: DroneMission): Buffer {
  return Buffer.from(canonicalJson(mission), 'utf8');
}
