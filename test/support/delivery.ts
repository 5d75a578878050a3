import { randomUUID } from 'node:crypto';
import { seedDemo } from '../../src/delivery/demo/seed.ts';
import { createRoutes } from '../../src/delivery/routes/index.ts';
import type { NewShipment } from '../../src/delivery/shipments/shipments.input.ts';
import type { Db } from '../../src/storage/database.ts';
import { completeSetup, type Browser, type SignedIn, type TestRampart } from './identity.ts';

// Depots, shipments and CSV files for delivery tests. Every recipient gets
// distinctive strings, so a test can look for them anywhere they must not be.

/** A square service area around (lat, lon), `half` degrees each way. */
export function squareArea(lat: number, lon: number, half = 0.2) {
  return {
    type: 'Polygon' as const,
    coordinates: [[[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half], [lon - half, lat - half]]],
  };
}

export interface RecipientStrings {
  readonly name: string;
  readonly phone: string;
  readonly address: string;
}

/** The strings a recipient must never be seen as. */
export function recipientValues(recipient: RecipientStrings): string[] {
  return [recipient.name, recipient.phone, recipient.address];
}

export function recipientFor(tag = randomUUID().slice(0, 8)): RecipientStrings {
  return { name: `Rosalind Quayle-${tag}`, phone: `+49 30 555${tag.replace(/\D/g, '').padEnd(4, '7').slice(0, 4)}`, address: `${tag} Lindenallee 17, 10115 Berlin` };
}

/** An API body for POST /api/v1/shipments near (52.52, 13.405). */
export function shipmentBody(overrides: Record<string, unknown> = {}, recipient: RecipientStrings = recipientFor()): Record<string, unknown> {
  return {
    depotId: 'north',
    recipient: { ...recipient },
    destination: { lat: 52.53, lon: 13.41 },
    parcel: { weightKg: 2.5, lengthCm: 30, widthCm: 20, heightCm: 10 },
    mode: 'truck',
    window: { start: '2026-07-01T09:00:00+02:00', end: '2026-07-01T12:00:00+02:00' },
    ...overrides,
  };
}

/** The same shipment as the delivery domain's input, for tests that call the services directly. */
export function newShipment(overrides: Partial<NewShipment> = {}, tag?: string): NewShipment {
  const recipient = recipientFor(tag);
  return {
    depotId: 'north',
    reference: null,
    recipient: { name: recipient.name, phone: recipient.phone, address: recipient.address },
    destination: { lat: 52.53, lon: 13.41 },
    parcel: { weightKg: 3, lengthCm: null, widthCm: null, heightCm: null },
    mode: 'truck',
    window: { start: '2026-07-01T08:00:00Z', end: '2026-07-01T10:00:00Z' },
    requiredProof: ['signature'],
    ...overrides,
  };
}

export const CSV_HEADER = 'reference,depot,recipient_name,recipient_phone,recipient_address,destination_lat,destination_lon,weight_kg,length_cm,width_cm,height_cm,mode,window_start,window_end,required_proof';

/** One CSV line with sensible values; `cells` replaces columns by name. */
export function csvLine(cells: Record<string, string> = {}, recipient: RecipientStrings = recipientFor()): string {
  const values: Record<string, string> = {
    reference: '',
    depot: 'north',
    recipient_name: recipient.name,
    recipient_phone: recipient.phone,
    recipient_address: `"${recipient.address}"`,
    destination_lat: '52.53',
    destination_lon: '13.41',
    weight_kg: '1.2',
    length_cm: '20',
    width_cm: '15',
    height_cm: '10',
    mode: 'truck',
    window_start: '2026-07-02T08:00:00Z',
    window_end: '2026-07-02T10:00:00Z',
    required_proof: 'signature',
    ...cells,
  };
  return CSV_HEADER.split(',').map((column) => values[column] ?? '').join(',');
}

/** Everything a refused delivery request must leave untouched: the delivery tables and the audit trail's head. */
export async function deliverySnapshot(db: Db): Promise<string> {
  const [depots, vehicles, drones, drivers, shipments, events, audit] = await Promise.all([
    db.selectFrom('depots').selectAll().orderBy('id').execute(),
    db.selectFrom('vehicles').selectAll().orderBy('id').execute(),
    db.selectFrom('drones').selectAll().orderBy('id').execute(),
    db.selectFrom('driver_profiles').selectAll().orderBy('account_id').execute(),
    db.selectFrom('shipments').selectAll().orderBy('id').execute(),
    db.selectFrom('shipment_events').selectAll().orderBy('id').execute(),
    db.selectFrom('audit_entries').select(['seq', 'action']).orderBy('seq', 'desc').limit(1).execute(),
  ]);
  return JSON.stringify({ depots, vehicles, drones, drivers, shipments, events, audit });
}

/** A raw request (CSV bodies, text responses) with the browser's cookie and CSRF token. */
export async function rawRequest(browser: Browser, method: string, path: string, body?: string, contentType = 'text/csv'): Promise<{ status: number; text: string; headers: Headers }> {
  const headers: Record<string, string> = { 'user-agent': browser.userAgent };
  if (browser.cookie !== undefined) headers['cookie'] = browser.cookie;
  if (browser.csrf !== undefined && method !== 'GET') headers['x-csrf-token'] = browser.csrf;
  if (body !== undefined) headers['content-type'] = contentType;
  const response = await fetch(`${browser.base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

/** The demo world (`rampart demo seed`) in a test server, and its dispatcher signed in with the setup code the seed printed. */
export async function seedDemoWorld(rampart: TestRampart, by: string): Promise<{ dispatcher: SignedIn }> {
  const { running } = rampart;
  const seeded = await seedDemo({
    delivery: running.delivery,
    devices: running.deviceRegistry,
    users: { db: running.database.db, clock: rampart.clock, sessions: running.identity.sessions, setupCodeTtlHours: rampart.config.bootstrap.setupCodeTtlHours },
    routes: createRoutes({ delivery: running.delivery, planning: rampart.config.planning }).routes,
    change: { actor: { type: 'cli', id: by, authMethod: 'local_shell' } },
  });
  const code = seeded.setupCodes.find((c) => c.role === 'dispatcher');
  if (code === undefined) throw new Error('the demo seed made no dispatcher');
  return { dispatcher: await completeSetup(rampart, code.username, code.setupCode) };
}
