// Motion for simulated fleets: drones fly out from a depot to a drop point and
// back, trucks drive a loop of stops around it. Deterministic for a given seed
// (a small xorshift generator: this is scenery, not security), so a run can be
// replayed.

import { distanceMetres, EARTH_RADIUS_M, type GeoPoint } from '../kernel/geo.ts';
import type { FLIGHT_STATES } from '../telemetry/payload-schemas.ts';

export type Point = GeoPoint;

export function xorshift(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
}

const toRad = (deg: number) => (deg * Math.PI) / 180;
const toDeg = (rad: number) => (rad * 180) / Math.PI;

/** Initial bearing from a to b, degrees clockwise from north in [0, 360). */
export function bearingDeg(a: Point, b: Point): number {
  const y = Math.sin(toRad(b.lon - a.lon)) * Math.cos(toRad(b.lat));
  const x = Math.cos(toRad(a.lat)) * Math.sin(toRad(b.lat)) - Math.sin(toRad(a.lat)) * Math.cos(toRad(b.lat)) * Math.cos(toRad(b.lon - a.lon));
  return (toDeg(Math.atan2(y, x)) + 360) % 360;
}

/** The point `metres` from `from` along `bearing`, on the sphere distanceMetres measures. */
export function destination(from: Point, bearing: number, metres: number): Point {
  const d = metres / EARTH_RADIUS_M;
  const b = toRad(bearing);
  const lat1 = toRad(from.lat);
  const lon1 = toRad(from.lon);
  const lat2 = Math.asin(Math.sin(lat1) * Math.cos(d) + Math.cos(lat1) * Math.sin(d) * Math.cos(b));
  const lon2 = lon1 + Math.atan2(Math.sin(b) * Math.sin(d) * Math.cos(lat1), Math.cos(d) - Math.sin(lat1) * Math.sin(lat2));
  return { lat: toDeg(lat2), lon: ((toDeg(lon2) + 540) % 360) - 180 };
}

export type FlightState = Extract<(typeof FLIGHT_STATES)[number], 'grounded' | 'takeoff' | 'cruise' | 'landing'>;

export interface DroneSample {
  readonly lat: number;
  readonly lon: number;
  readonly altitude: number;
  readonly heading: number;
  readonly groundSpeed: number;
  readonly battery: number;
  readonly flightState: FlightState;
  readonly timestamp: string;
}

export interface TruckSample {
  readonly lat: number;
  readonly lon: number;
  /** Metres per second. */
  readonly speed: number;
  readonly heading: number;
  /** Kilometres. */
  readonly odometer: number;
  readonly timestamp: string;
}

const CRUISE_ALTITUDE_M = 100;
const CLIMB_MPS = 4;
const CRUISE_MPS = 15;

/**
 * A drone mission: climb at the depot, fly to a drop point 2–8 km out, descend
 * and climb again (the drop), fly home, land, wait, repeat. Battery drains with
 * flight time and recharges on the ground.
 */
export class SimulatedDrone {
  readonly #depot: Point;
  readonly #random: () => number;
  #position: Point;
  #target: Point;
  #altitude = 0;
  #battery = 100;
  #state: FlightState = 'grounded';
  #outbound = true;
  #groundedFor = 0;

  constructor(depot: Point, seed: number) {
    this.#depot = depot;
    this.#random = xorshift(seed);
    this.#position = depot;
    this.#target = this.#newDropPoint();
  }

  #newDropPoint(): Point {
    return destination(this.#depot, this.#random() * 360, 2_000 + this.#random() * 6_000);
  }

  /** Advances `seconds` and returns the sample at the new time. */
  step(seconds: number, now: Date): DroneSample {
    let speed = 0;
    switch (this.#state) {
      case 'grounded':
        this.#groundedFor += seconds;
        this.#battery = Math.min(100, this.#battery + seconds * 0.5);
        if (this.#groundedFor >= 20 && this.#battery >= 60) {
          this.#state = 'takeoff';
          this.#groundedFor = 0;
        }
        break;
      case 'takeoff':
        this.#altitude = Math.min(CRUISE_ALTITUDE_M, this.#altitude + CLIMB_MPS * seconds);
        if (this.#altitude >= CRUISE_ALTITUDE_M) this.#state = 'cruise';
        break;
      case 'cruise': {
        const remaining = distanceMetres(this.#position, this.#target);
        const travel = Math.min(remaining, CRUISE_MPS * seconds);
        this.#position = destination(this.#position, bearingDeg(this.#position, this.#target), travel);
        speed = travel / seconds;
        if (remaining - travel < 1) this.#state = 'landing';
        break;
      }
      case 'landing':
        this.#altitude = Math.max(0, this.#altitude - CLIMB_MPS * seconds);
        if (this.#altitude === 0) {
          if (this.#outbound) {
            this.#outbound = false;
            this.#target = this.#depot;
            this.#state = 'takeoff';
          } else {
            this.#outbound = true;
            this.#target = this.#newDropPoint();
            this.#state = 'grounded';
          }
        }
        break;
    }
    if (this.#state !== 'grounded') this.#battery = Math.max(0, this.#battery - seconds * 0.03);
    return {
      lat: round(this.#position.lat, 6),
      lon: round(this.#position.lon, 6),
      altitude: round(this.#altitude, 1),
      heading: round(bearingDeg(this.#position, this.#target), 1),
      groundSpeed: round(speed, 2),
      battery: round(this.#battery, 1),
      flightState: this.#state,
      timestamp: now.toISOString(),
    };
  }
}

/** A truck driving a loop of stops around the depot at city speeds, pausing at each stop. */
export class SimulatedTruck {
  readonly #stops: Point[];
  #position: Point;
  #next = 0;
  #odometer: number;
  #dwell = 0;
  readonly #random: () => number;

  constructor(depot: Point, seed: number) {
    this.#random = xorshift(seed);
    this.#stops = Array.from({ length: 6 }, () => destination(depot, this.#random() * 360, 500 + this.#random() * 4_000));
    this.#stops.push(depot);
    this.#position = depot;
    this.#odometer = Math.round(this.#random() * 200_000);
  }

  step(seconds: number, now: Date): TruckSample {
    const target = this.#stops[this.#next] ?? this.#position;
    let speed = 0;
    if (this.#dwell > 0) {
      this.#dwell = Math.max(0, this.#dwell - seconds);
    } else {
      const cruise = 8 + this.#random() * 6; // 29–50 km/h
      const remaining = distanceMetres(this.#position, target);
      const travel = Math.min(remaining, cruise * seconds);
      this.#position = destination(this.#position, bearingDeg(this.#position, target), travel);
      this.#odometer += travel / 1000;
      speed = travel / seconds;
      if (remaining - travel < 1) {
        this.#next = (this.#next + 1) % this.#stops.length;
        this.#dwell = 60;
      }
    }
    return {
      lat: round(this.#position.lat, 6),
      lon: round(this.#position.lon, 6),
      speed: round(speed, 1),
      heading: round(bearingDeg(this.#position, target), 1),
      odometer: round(this.#odometer, 3),
      timestamp: now.toISOString(),
    };
  }
}

function round(value: number, places: number): number {
  const f = 10 ** places;
  return Math.round(value * f) / f;
}
