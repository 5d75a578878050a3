import { simulatedId } from '../../simulate/fleet.ts';
import { destination, xorshift, type Point } from '../../simulate/motion.ts';
import type { ServiceArea } from '../depots/service-area.ts';
import type { NewShipment } from '../shipments/shipments.input.ts';
import type { ProofKind } from '../shipments/shipments.store.ts';

// The Contoso Shipping demo world: an urban truck depot in Cambridge and a
// rural drone base in the Fens, their fleets, staff and one day's shipments.
// Everything is fixed or drawn from a seeded generator, so every seed makes
// the same world (only the day of the time windows changes). Street, village
// and person names are made up; phone numbers come from the range Ofcom keeps
// for drama (07700 900000–900999), which never rings anyone.

export interface DemoDepot {
  readonly id: string;
  readonly name: string;
  readonly location: Point;
  /** Radius of the service area (a 24-sided polygon around the depot). */
  readonly serviceRadiusKm: number;
  /** Destinations are drawn up to this far from the depot (inside the area). */
  readonly deliveryRadiusKm: number;
  readonly mode: 'truck' | 'drone';
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
  mode: 'truck',
  reference: 'CONTOSO-CAM',
  seed: 0x0c0a_17e5,
};

export const RURAL_DEPOT: DemoDepot = {
  id: 'contoso-fenland',
  name: 'Contoso Fenland drone base',
  location: { lat: 52.4531, lon: 0.0562 },
  serviceRadiusKm: 12,
  deliveryRadiusKm: 10,
  mode: 'drone',
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
const TRUCK_NAMES = ['Granta', 'Cam', 'Mill Road', 'Fen Causeway', 'Castle', 'Newnham'];

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
export const DEMO_TRUCKS: readonly DemoUnit[] = TRUCK_NAMES.map((name, i) => ({
  id: `cam-van-${i + 1}`,
  name: `Van ${name}`,
  depotId: URBAN_DEPOT.id,
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

/** Six van drivers in the city; two crew at the drone base, who load and launch the drones. */
export const DEMO_DRIVERS: readonly DemoAccount[] = [
  ...['amara', 'bruno', 'chloe', 'dmitri', 'esme', 'farid'].map((username) => ({ username, role: 'driver' as const, homeDepotId: URBAN_DEPOT.id })),
  ...['greta', 'hugo'].map((username) => ({ username, role: 'driver' as const, homeDepotId: RURAL_DEPOT.id })),
];

export const DEMO_DISPATCHER: DemoAccount = { username: 'dana', role: 'dispatcher', depots: DEMO_DEPOTS.map((d) => d.id) };

/** How many shipments each depot gets. */
export const SHIPMENTS_PER_DEPOT: Readonly<Record<string, number>> = { [URBAN_DEPOT.id]: 40, [RURAL_DEPOT.id]: 20 };

const FIRST_NAMES = ['Ada', 'Bram', 'Cleo', 'Dorian', 'Edie', 'Felix', 'Gwen', 'Hamish', 'Ines', 'Jasper', 'Kit', 'Lorna', 'Milo', 'Nell', 'Orla', 'Piers', 'Quinn', 'Rosa', 'Silas', 'Tamsin', 'Ulla', 'Vaughn', 'Wren', 'Yusuf'];
const SURNAMES = ['Abernethy', 'Blackwood', 'Cardew', 'Dunmore', 'Elsworth', 'Fairbrook', 'Gillard', 'Hartwell', 'Ingleby', 'Jessop', 'Kettering', 'Lockridge', 'Marchbank', 'Nettleford', 'Oakham', 'Pennington', 'Quarrie', 'Rendell', 'Stanway', 'Thursby'];
const CITY_STREETS = ['Quillon Street', 'Marrowgate Road', 'Fennick Lane', 'Tallowmere Avenue', 'Osterby Close', 'Willowfold Road', 'Pennycress Way', 'Hartsmoor Street', 'Calloway Gardens', 'Brindle Court', 'Larkhythe Road', 'Sedgewick Row'];
const VILLAGES = ['Little Fenby', 'Marsham St Clare', 'Upware Drove', 'Cotteridge Fen', 'Holme Staithe', 'Wickham Lode'];
const RURAL_PLACES = ['Drove Farm', 'Willow Cottage', 'Lode End', 'The Old Pumphouse', 'Sedge Barn', 'Hithe House', 'Reedbed Farm', 'Washes Lodge'];
const RURAL_LANES = ['Drove Lane', 'Lode Road', 'Bank Side', 'Fen Road', 'Causeway'];

/** Windows of the demo day, in UTC: the urban depot's vans deliver in two-hour slots, the drones in three-hour ones. */
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

/**
 * The depot's shipments for `day` (`YYYY-MM-DD`): the same recipients,
 * addresses, destinations and parcels every time; windows on that day.
 */
export function demoShipments(depot: DemoDepot, day: string): NewShipment[] {
  const count = SHIPMENTS_PER_DEPOT[depot.id] ?? 0;
  const random = xorshift(depot.seed);
  const shipments: NewShipment[] = [];
  for (let i = 0; i < count; i++) {
    // Square root: destinations spread evenly over the disc rather than crowding the depot.
    const distanceM = (0.1 + 0.9 * Math.sqrt(random())) * depot.deliveryRadiusKm * 1000;
    const point = destination(depot.location, random() * 360, distanceM);
    const name = `${pick(random, FIRST_NAMES)} ${pick(random, SURNAMES)}`;
    const phone = `+44 7700 900${String(Math.floor(random() * 1000)).padStart(3, '0')}`;
    const address =
      depot.mode === 'truck'
        ? `${1 + Math.floor(random() * 140)} ${pick(random, CITY_STREETS)}, Cambridge`
        : `${pick(random, RURAL_PLACES)}, ${1 + Math.floor(random() * 30)} ${pick(random, RURAL_LANES)}, ${pick(random, VILLAGES)}`;
    const [from, to] = SLOTS[depot.mode][i % SLOTS[depot.mode].length] ?? [9, 17];
    const hour = (h: number) => `${day}T${String(h).padStart(2, '0')}:00:00Z`;
    const drone = depot.mode === 'drone';
    shipments.push({
      depotId: depot.id,
      reference: `${depot.reference}-${String(i + 1).padStart(3, '0')}`,
      recipient: { name, phone: random() < 0.85 ? phone : null, address },
      destination: { lat: round(point.lat), lon: round(point.lon) },
      parcel: drone
        ? { weightKg: round(0.3 + random() * 2, 1), lengthCm: 20 + Math.floor(random() * 15), widthCm: 15 + Math.floor(random() * 10), heightCm: 5 + Math.floor(random() * 10) }
        : { weightKg: round(0.5 + random() * 19.5, 1), lengthCm: 20 + Math.floor(random() * 60), widthCm: 15 + Math.floor(random() * 40), heightCm: 5 + Math.floor(random() * 40) },
      mode: depot.mode,
      window: { start: hour(from), end: hour(to) },
      // A drone cannot collect a signature: it photographs the parcel where it left it.
      requiredProof: drone ? ['photo'] : [...pick(random, TRUCK_PROOFS)],
    });
  }
  return shipments;
}
