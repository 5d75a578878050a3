import { simulatedId } from '../../simulate/fleet.ts';
import { destination, xorshift, type Point } from '../../simulate/motion.ts';
import type { ServiceArea } from '../depots/service-area.ts';
import type { NewShipment } from '../shipments/shipments.input.ts';
import type { ProofKind } from '../shipments/shipments.store.ts';

// The Contoso Shipping demo world: an urban truck depot in Cambridge and a
// rural drone base in the Fens, their fleets, staff, two days' shipments and
// one planned route per driver. Everything is fixed or drawn from a seeded
// generator, so every seed makes the same world (only the days of the time
// windows change). Street, village and person names are made up; phone
// numbers come from the range Ofcom keeps for drama (07700 900000–900999),
// which never rings anyone.

export interface DemoDepot {
  readonly id: string;
  readonly name: string;
  readonly location: Point;
  /** Radius of the service area (a 24-sided polygon around the depot). */
  readonly serviceRadiusKm: number;
  /** Destinations are drawn up to this far from the depot (inside the area). */
  readonly deliveryRadiusKm: number;
  /** Urban: street addresses in Cambridge; rural: farms and cottages in Fen villages. */
  readonly setting: 'urban' | 'rural';
  /** Drone shipments (windows on the seed's day), besides the van shipments of its routes. */
  readonly droneShipments: number;
  /** Reference prefix of the depot's shipments. */
  readonly reference: string;
  /** Seed of the depot's own generator: adding a depot does not move another's shipments. */
  readonly seed: number;
}

export const URBAN_DEPOT: DemoDepot = {
  id: 'contoso-cambridge',
  name: 'Contoso Cambridge city depot',
  location: { lat: 52.2232, lon: 0.1567 },
  serviceRadiusKm: 7,
  deliveryRadiusKm: 5.5,
  setting: 'urban',
  droneShipments: 0,
  reference: 'CONTOSO-CAM',
  seed: 0x0c0a_17e5,
};

export const RURAL_DEPOT: DemoDepot = {
  id: 'contoso-fenland',
  name: 'Contoso Fenland drone base',
  location: { lat: 52.4531, lon: 0.0562 },
  serviceRadiusKm: 12,
  deliveryRadiusKm: 10,
  setting: 'rural',
  droneShipments: 20,
  reference: 'CONTOSO-FEN',
  seed: 0x0fe1_1a4d,
};

export const DEMO_DEPOTS: readonly DemoDepot[] = [URBAN_DEPOT, RURAL_DEPOT];

export interface DemoUnit {
  readonly id: string;
  readonly name: string;
  readonly depotId: string;
  /** The simulator's device for this unit: `rampart simulate` drives it. */
  readonly deviceId: string;
  readonly maxPayloadKg: number;
  readonly plate?: string;
  readonly maxRangeKm?: number;
}

const DRONE_NAMES = ['Kestrel', 'Merlin', 'Hobby', 'Harrier'];
/** Four vans in the city; two at the drone base for the parcels too heavy to fly. */
const VANS: ReadonlyArray<{ id: string; name: string; depotId: string }> = [
  ...['Granta', 'Cam', 'Mill Road', 'Castle'].map((name, i) => ({ id: `cam-van-${i + 1}`, name, depotId: URBAN_DEPOT.id })),
  ...['Fen Causeway', 'Hereward'].map((name, i) => ({ id: `fen-van-${i + 1}`, name, depotId: RURAL_DEPOT.id })),
];

/** Drones: 30 km range (24 km after the planning reserve), 2.5 kg payload. */
export const DEMO_DRONES: readonly DemoUnit[] = DRONE_NAMES.map((name, i) => ({
  id: `fen-drone-${i + 1}`,
  name: `Drone ${name}`,
  depotId: RURAL_DEPOT.id,
  deviceId: simulatedId('drone', i + 1),
  maxPayloadKg: 2.5,
  maxRangeKm: 30,
}));

/** Electric vans: 800 kg payload. */
export const DEMO_TRUCKS: readonly DemoUnit[] = VANS.map((van, i) => ({
  id: van.id,
  name: `Van ${van.name}`,
  depotId: van.depotId,
  deviceId: simulatedId('truck', i + 1),
  maxPayloadKg: 800,
  plate: `CT${24 + i} RPV`,
}));

export interface DemoAccount {
  readonly username: string;
  readonly role: 'driver' | 'dispatcher';
  /** A driver's home depot. */
  readonly homeDepotId?: string;
  /** A dispatcher's depot scope. */
  readonly depots?: readonly string[];
}

/** Six van drivers in the city; two crew at the drone base, who launch the drones and drive its vans. */
export const DEMO_DRIVERS: readonly DemoAccount[] = [
  ...['amara', 'bruno', 'chloe', 'dmitri', 'esme', 'farid'].map((username) => ({ username, role: 'driver' as const, homeDepotId: URBAN_DEPOT.id })),
  ...['greta', 'hugo'].map((username) => ({ username, role: 'driver' as const, homeDepotId: RURAL_DEPOT.id })),
];

export const DEMO_DISPATCHER: DemoAccount = { username: 'dana', role: 'dispatcher', depots: DEMO_DEPOTS.map((d) => d.id) };

export interface DemoRoute {
  readonly driver: string;
  readonly vehicleId: string;
  readonly depotId: string;
  /** Days after the seed's day: 0 today, 1 tomorrow. */
  readonly dayOffset: number;
  /** How many van shipments the route delivers (drawn in its own sector around the depot). */
  readonly stops: number;
}

/**
 * One planned route per driver: as many today as a depot has vans, and the
 * city's two remaining drivers tomorrow (on two of the same vans).
 */
export const DEMO_ROUTES: readonly DemoRoute[] = [
  { driver: 'amara', vehicleId: 'cam-van-1', depotId: URBAN_DEPOT.id, dayOffset: 0, stops: 5 },
  { driver: 'bruno', vehicleId: 'cam-van-2', depotId: URBAN_DEPOT.id, dayOffset: 0, stops: 5 },
  { driver: 'chloe', vehicleId: 'cam-van-3', depotId: URBAN_DEPOT.id, dayOffset: 0, stops: 5 },
  { driver: 'dmitri', vehicleId: 'cam-van-4', depotId: URBAN_DEPOT.id, dayOffset: 0, stops: 5 },
  { driver: 'esme', vehicleId: 'cam-van-1', depotId: URBAN_DEPOT.id, dayOffset: 1, stops: 6 },
  { driver: 'farid', vehicleId: 'cam-van-2', depotId: URBAN_DEPOT.id, dayOffset: 1, stops: 6 },
  { driver: 'greta', vehicleId: 'fen-van-1', depotId: RURAL_DEPOT.id, dayOffset: 0, stops: 4 },
  { driver: 'hugo', vehicleId: 'fen-van-2', depotId: RURAL_DEPOT.id, dayOffset: 0, stops: 4 },
];

const routesOf = (depot: DemoDepot) => DEMO_ROUTES.filter((r) => r.depotId === depot.id);

/** How many shipments each depot gets: its routes' stops, then its drone shipments. */
export const SHIPMENTS_PER_DEPOT: Readonly<Record<string, number>> = Object.fromEntries(
  DEMO_DEPOTS.map((depot) => [depot.id, routesOf(depot).reduce((total, r) => total + r.stops, 0) + depot.droneShipments]),
);

const referenceOf = (depot: DemoDepot, n: number) => `${depot.reference}-${String(n).padStart(3, '0')}`;

/** The references of the route's shipments: a depot numbers its routes' shipments first, in route order. */
export function demoRouteReferences(route: DemoRoute): string[] {
  const depot = DEMO_DEPOTS.find((d) => d.id === route.depotId);
  if (depot === undefined) throw new Error(`no demo depot ${route.depotId}`);
  const others = routesOf(depot);
  const first = others.slice(0, others.indexOf(route)).reduce((total, r) => total + r.stops, 0);
  return Array.from({ length: route.stops }, (_, i) => referenceOf(depot, first + i + 1));
}

/** `day` (`YYYY-MM-DD`) plus `days`. */
export function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

const FIRST_NAMES = ['Ada', 'Bram', 'Cleo', 'Dorian', 'Edie', 'Felix', 'Gwen', 'Hamish', 'Ines', 'Jasper', 'Kit', 'Lorna', 'Milo', 'Nell', 'Orla', 'Piers', 'Quinn', 'Rosa', 'Silas', 'Tamsin', 'Ulla', 'Vaughn', 'Wren', 'Yusuf'];
const SURNAMES = ['Abernethy', 'Blackwood', 'Cardew', 'Dunmore', 'Elsworth', 'Fairbrook', 'Gillard', 'Hartwell', 'Ingleby', 'Jessop', 'Kettering', 'Lockridge', 'Marchbank', 'Nettleford', 'Oakham', 'Pennington', 'Quarrie', 'Rendell', 'Stanway', 'Thursby'];
const CITY_STREETS = ['Quillon Street', 'Marrowgate Road', 'Fennick Lane', 'Tallowmere Avenue', 'Osterby Close', 'Willowfold Road', 'Pennycress Way', 'Hartsmoor Street', 'Calloway Gardens', 'Brindle Court', 'Larkhythe Road', 'Sedgewick Row'];
const VILLAGES = ['Little Fenby', 'Marsham St Clare', 'Upware Drove', 'Cotteridge Fen', 'Holme Staithe', 'Wickham Lode'];
const RURAL_PLACES = ['Drove Farm', 'Willow Cottage', 'Lode End', 'The Old Pumphouse', 'Sedge Barn', 'Hithe House', 'Reedbed Farm', 'Washes Lodge'];
const RURAL_LANES = ['Drove Lane', 'Lode Road', 'Bank Side', 'Fen Road', 'Causeway'];

/** Windows in UTC: vans deliver in two-hour slots, drones in three-hour ones. */
const SLOTS: Readonly<Record<'truck' | 'drone', ReadonlyArray<readonly [number, number]>>> = {
  truck: [[8, 10], [10, 12], [12, 14], [14, 16], [16, 18]],
  drone: [[9, 12], [12, 15], [15, 18]],
};

const TRUCK_PROOFS: ReadonlyArray<readonly ProofKind[]> = [['signature'], ['signature'], ['signature'], ['photo'], ['pin']];

/** The depot's service area: a 24-sided polygon of `serviceRadiusKm` around it. */
export function demoServiceArea(depot: DemoDepot): ServiceArea {
  const ring = Array.from({ length: 24 }, (_, i) => destination(depot.location, i * 15, depot.serviceRadiusKm * 1000)).map((p) => [round(p.lon), round(p.lat)]);
  const first = ring[0] ?? [];
  return { type: 'Polygon', coordinates: [[...ring, [...first]]] };
}

function round(value: number, places = 5): number {
  const factor = 10 ** places;
  return Math.round(value * factor) / factor;
}

function pick<T>(random: () => number, values: readonly T[]): T {
  const value = values[Math.floor(random() * values.length)];
  if (value === undefined) throw new Error('pick from an empty list');
  return value;
}

/** Where a shipment goes: a van route's sector of the circle around the depot, or anywhere (drones). */
interface Draw {
  readonly mode: 'truck' | 'drone';
  readonly dayOffset: number;
  /** Compass bearings the destination is drawn between. */
  readonly sector: readonly [number, number];
  /** Its place on its route (or among the drone shipments): picks its window slot. */
  readonly index: number;
}

/** The depot's draws in reference order: each route's stops in route order, then the drone shipments. */
function drawsOf(depot: DemoDepot): Draw[] {
  const routes = routesOf(depot);
  const draws: Draw[] = [];
  for (const route of routes) {
    // The routes of one day share the circle: each driver gets a sector of their own.
    const sameDay = routes.filter((r) => r.dayOffset === route.dayOffset);
    const width = 360 / sameDay.length;
    const from = sameDay.indexOf(route) * width;
    for (let i = 0; i < route.stops; i++) draws.push({ mode: 'truck', dayOffset: route.dayOffset, sector: [from, from + width], index: i });
  }
  for (let i = 0; i < depot.droneShipments; i++) draws.push({ mode: 'drone', dayOffset: 0, sector: [0, 360], index: i });
  return draws;
}

/**
 * The depot's shipments for a seed on `day` (`YYYY-MM-DD`): the same
 * recipients, addresses, destinations and parcels every time; each window on
 * `day` or the day after, as its route says (drone shipments on `day`).
 */
export function demoShipments(depot: DemoDepot, day: string): NewShipment[] {
  const random = xorshift(depot.seed);
  const addresses = new Set<string>();
  const address = (): string =>
    depot.setting === 'urban'
      ? `${1 + Math.floor(random() * 140)} ${pick(random, CITY_STREETS)}, Cambridge`
      : `${pick(random, RURAL_PLACES)}, ${1 + Math.floor(random() * 30)} ${pick(random, RURAL_LANES)}, ${pick(random, VILLAGES)}`;
  return drawsOf(depot).map((draw, i) => {
    // Square root: destinations spread evenly over the disc rather than crowding the depot.
    const distanceM = (0.1 + 0.9 * Math.sqrt(random())) * depot.deliveryRadiusKm * 1000;
    const [fromBearing, toBearing] = draw.sector;
    const point = destination(depot.location, fromBearing + random() * (toBearing - fromBearing), distanceM);
    const name = `${pick(random, FIRST_NAMES)} ${pick(random, SURNAMES)}`;
    const phone = `+44 7700 900${String(Math.floor(random() * 1000)).padStart(3, '0')}`;
    // Drawn again (from the same generator) until new: no two recipients share a door.
    let door = address();
    while (addresses.has(door)) door = address();
    addresses.add(door);
    const slots = SLOTS[draw.mode];
    const [from, to] = slots[draw.index % slots.length] ?? [9, 17];
    const date = addDays(day, draw.dayOffset);
    const hour = (h: number) => `${date}T${String(h).padStart(2, '0')}:00:00Z`;
    const drone = draw.mode === 'drone';
    const parcel = drone
      ? { weightKg: round(0.3 + random() * 2, 1), lengthCm: 20 + Math.floor(random() * 15), widthCm: 15 + Math.floor(random() * 10), heightCm: 5 + Math.floor(random() * 10) }
      : depot.setting === 'urban'
        ? { weightKg: round(0.5 + random() * 19.5, 1), lengthCm: 20 + Math.floor(random() * 60), widthCm: 15 + Math.floor(random() * 40), heightCm: 5 + Math.floor(random() * 40) }
        : // The drone base's vans carry what no drone can: over 2.5 kg.
          { weightKg: round(4 + random() * 26, 1), lengthCm: 40 + Math.floor(random() * 60), widthCm: 30 + Math.floor(random() * 40), heightCm: 20 + Math.floor(random() * 40) };
    return {
      depotId: depot.id,
      reference: referenceOf(depot, i + 1),
      recipient: { name, phone: random() < 0.85 ? phone : null, address: door },
      destination: { lat: round(point.lat), lon: round(point.lon) },
      parcel,
      mode: draw.mode,
      window: { start: hour(from), end: hour(to) },
      // A drone cannot collect a signature: it photographs the parcel where it left it.
      requiredProof: drone ? ['photo'] : [...pick(random, TRUCK_PROOFS)],
    };
  });
}
