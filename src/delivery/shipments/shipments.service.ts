import type { Kysely } from 'kysely';
import { type AuditedChange, type JsonValue, recordChange } from '../../audit/append.ts';
import type { Keyring } from '../../crypto/keyring.ts';
import type { Clock } from '../../kernel/clock.ts';
import { RampartError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { Db } from '../../storage/database.ts';
import type { Tables } from '../../storage/tables.ts';
import { diff, invalid } from '../checks.ts';
import { loadDepot } from '../depots/depots.service.ts';
import { insideServiceArea } from '../depots/service-area.ts';
import type { ProgressStatus, ShipmentLifecycle } from './lifecycle.ts';
import type { FailureReason } from './status.ts';
import { checkAddress, checkPhone, checkRecipientName, normalizeShipment, shipmentProblems, type NewShipment } from './shipments.input.ts';
import { loadSummaryRow, summaryView, type Recipient, type ShipmentDetail, type ShipmentSummary, type SummaryRow } from './shipments.store.ts';
import { newTrackingNumber } from './tracking-number.ts';
import { newTrackingToken } from './tracking-token.ts';

// Shipments: creation (one, or many from an import), reading, editing and the
// tracking token. Recipient data is encrypted before a transaction opens and
// decrypted after the query; audit entries carry only non-personal fields.

export type RecipientField = 'name' | 'phone' | 'address';

/** A shipment ready to insert: its id, ciphertexts and tracking token made outside any transaction. */
export interface PreparedShipment {
  readonly id: string;
  readonly input: NewShipment;
  readonly ciphertexts: { readonly name: string; readonly phone: string | null; readonly address: string };
  readonly token: string;
  readonly tokenHash: string;
}

export interface ShipmentPatch {
  readonly reference?: string | null | undefined;
  readonly recipient?: { readonly name?: string | undefined; readonly phone?: string | null | undefined; readonly address?: string | undefined } | undefined;
  readonly destination?: { readonly lat: number; readonly lon: number } | undefined;
  readonly parcel?: { readonly weightKg?: number | undefined; readonly lengthCm?: number | null | undefined; readonly widthCm?: number | null | undefined; readonly heightCm?: number | null | undefined } | undefined;
  readonly mode?: NewShipment['mode'] | undefined;
  readonly window?: { readonly start: string; readonly end: string } | undefined;
  readonly requiredProof?: NewShipment['requiredProof'] | undefined;
}

const EDITABLE: readonly string[] = ['created', 'assigned', 'failed'];
const COLUMN: Readonly<Record<RecipientField, 'recipient_name' | 'recipient_phone' | 'recipient_address'>> = { name: 'recipient_name', phone: 'recipient_phone', address: 'recipient_address' };

/** The non-personal facts of a shipment, for audit entries. */
export function shipmentFacts(s: ShipmentSummary): Record<string, JsonValue> {
  return {
    trackingNumber: s.trackingNumber,
    reference: s.reference,
    depot: s.depotId,
    mode: s.mode,
    status: s.status,
    weightKg: s.parcel.weightKg,
    lengthCm: s.parcel.lengthCm,
    widthCm: s.parcel.widthCm,
    heightCm: s.parcel.heightCm,
    windowStart: s.window.start,
    windowEnd: s.window.end,
    requiredProof: [...s.requiredProof],
  };
}

export class ShipmentService {
  readonly #db: Db;
  readonly #keyring: Keyring;
  readonly #clock: Clock;
  readonly lifecycle: ShipmentLifecycle;

  constructor(options: { db: Db; keyring: Keyring; clock: Clock; lifecycle: ShipmentLifecycle }) {
    this.#db = options.db;
    this.#keyring = options.keyring;
    this.#clock = options.clock;
    this.lifecycle = options.lifecycle;
  }

  #encrypt(id: string, field: RecipientField, value: string): Promise<string> {
    return this.#keyring.encryptField({ table: 'shipments', column: COLUMN[field], rowId: id }, value);
  }

  /** Checks the fields and encrypts the recipient for a new row; no transaction is open. */
  async prepare(raw: NewShipment): Promise<PreparedShipment> {
    const problem = shipmentProblems(raw)[0];
    if (problem !== undefined) throw invalid(`${problem.column}: ${problem.message}.`);
    const input = normalizeShipment(raw);
    const id = newId('shp');
    const [name, phone, address] = await Promise.all([this.#encrypt(id, 'name', input.recipient.name), input.recipient.phone === null ? null : this.#encrypt(id, 'phone', input.recipient.phone), this.#encrypt(id, 'address', input.recipient.address)]);
    return { id, input, ciphertexts: { name, phone, address }, ...(({ token, hash }) => ({ token, tokenHash: hash }))(newTrackingToken()) };
  }

  /** Depot, service area and reference checks that need the database. */
  async placementProblem(db: Kysely<Tables>, input: NewShipment, exceptId?: string): Promise<RampartError | undefined> {
    let depot;
    try {
      depot = await loadDepot(db, input.depotId);
    } catch (error) {
      return error as RampartError;
    }
    if (depot.serviceArea !== null && !insideServiceArea(depot.serviceArea, input.destination.lat, input.destination.lon)) {
      return new RampartError('shipment.outside_service_area', `destination outside depot ${depot.id}`, { publicDetail: `The destination is outside the service area of depot ${depot.id}.` });
    }
    if (input.reference !== null) {
      let taken = db.selectFrom('shipments').select('id').where('reference', '=', input.reference);
      if (exceptId !== undefined) taken = taken.where('id', '!=', exceptId);
      if ((await taken.executeTakeFirst()) !== undefined) return new RampartError('shipment.reference_taken', `reference ${input.reference} taken`, { publicDetail: `Another shipment has reference ${input.reference}.` });
    }
    return undefined;
  }

  /** Inserts a prepared shipment with its first history row, audit entry and `shipment.created` event. */
  async insertPrepared(trx: Kysely<Tables>, prepared: PreparedShipment, change: AuditedChange, auditExtra: Record<string, JsonValue> = {}): Promise<ShipmentSummary> {
    const { input } = prepared;
    const problem = await this.placementProblem(trx, input);
    if (problem !== undefined) throw problem;
    let trackingNumber = newTrackingNumber();
    while ((await trx.selectFrom('shipments').select('id').where('tracking_number', '=', trackingNumber).executeTakeFirst()) !== undefined) trackingNumber = newTrackingNumber();
    const now = this.#clock.now().toISOString();
    await trx
      .insertInto('shipments')
      .values({
        id: prepared.id,
        tracking_number: trackingNumber,
        reference: input.reference,
        depot_id: input.depotId,
        recipient_name: prepared.ciphertexts.name,
        recipient_phone: prepared.ciphertexts.phone,
        recipient_address: prepared.ciphertexts.address,
        dest_lat: input.destination.lat,
        dest_lon: input.destination.lon,
        weight_kg: input.parcel.weightKg,
        length_cm: input.parcel.lengthCm,
        width_cm: input.parcel.widthCm,
        height_cm: input.parcel.heightCm,
        mode: input.mode,
        window_start: input.window.start,
        window_end: input.window.end,
        required_proof: JSON.stringify(input.requiredProof),
        status: 'created',
        failure_reason: null,
        assigned_driver_id: null,
        tracking_token_hash: prepared.tokenHash,
        last_event_at: now,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await this.lifecycle.recordHistory(trx, { shipmentId: prepared.id, from: null, to: 'created', reason: null, note: null, driverId: null, change, at: now });
    const row = await loadSummaryRow(trx, prepared.id);
    const shipment = summaryView(row);
    await recordChange(trx, this.#clock, change, 'shipment.create', { type: 'shipment', id: prepared.id }, { ...shipmentFacts(shipment), ...auditExtra });
    await this.lifecycle.publish(trx, row, 'shipment.created', now);
    return shipment;
  }

  /** Creates one shipment; its tracking token is returned here and never again. */
  async create(input: NewShipment, change: AuditedChange): Promise<{ shipment: ShipmentDetail; trackingToken: string }> {
    const prepared = await this.prepare(input);
    const shipment = await this.#db.transaction().execute((trx) => this.insertPrepared(trx, prepared, change));
    return { shipment: { ...shipment, recipient: { ...prepared.input.recipient } }, trackingToken: prepared.token };
  }

  get(id: string): Promise<ShipmentSummary> {
    return loadSummaryRow(this.#db, id).then(summaryView);
  }

  /** The decrypted recipient (after the query, outside any transaction). */
  async recipient(id: string): Promise<Recipient> {
    const row = await this.#db.selectFrom('shipments').select(['recipient_name', 'recipient_phone', 'recipient_address']).where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw new RampartError('shipment.not_found', `no shipment ${id}`);
    const ref = (column: string) => ({ table: 'shipments', column, rowId: id });
    const [name, phone, address] = await Promise.all([
      this.#keyring.decryptFieldText(ref('recipient_name'), row.recipient_name),
      row.recipient_phone === null ? null : this.#keyring.decryptFieldText(ref('recipient_phone'), row.recipient_phone),
      this.#keyring.decryptFieldText(ref('recipient_address'), row.recipient_address),
    ]);
    return { name, phone, address };
  }

  async detail(id: string, withRecipient: boolean): Promise<ShipmentDetail> {
    const shipment = await this.get(id);
    return { ...shipment, recipient: withRecipient ? await this.recipient(id) : null };
  }

  /** Edits a shipment that is not yet on the road; the mode only before assignment. */
  async update(id: string, patch: ShipmentPatch, change: AuditedChange): Promise<ShipmentSummary> {
    const before = await this.get(id);
    if (!EDITABLE.includes(before.status)) throw new RampartError('shipment.not_editable', `shipment ${id} is ${before.status}`, { publicDetail: `A ${before.status} shipment can no longer be changed.` });
    if (patch.mode !== undefined && patch.mode !== before.mode && before.status !== 'created') throw new RampartError('shipment.not_editable', 'mode change after assignment', { publicDetail: 'The delivery mode can be changed only before the shipment is assigned.' });
    const recipientPatch = patch.recipient ?? {};
    for (const problem of [recipientPatch.name === undefined ? undefined : checkRecipientName(recipientPatch.name), recipientPatch.phone === undefined ? undefined : checkPhone(recipientPatch.phone), recipientPatch.address === undefined ? undefined : checkAddress(recipientPatch.address)]) {
      if (problem !== undefined) throw invalid(`${problem.column}: ${problem.message}.`);
    }
    const merged: NewShipment = {
      depotId: before.depotId,
      reference: patch.reference === undefined ? before.reference : patch.reference,
      // Placeholders that pass the recipient checks: the recipient was checked above and is not read.
      recipient: { name: 'x', phone: null, address: 'x' },
      destination: patch.destination ?? before.destination,
      parcel: { ...before.parcel, ...Object.fromEntries(Object.entries(patch.parcel ?? {}).filter(([, v]) => v !== undefined)) },
      mode: patch.mode ?? before.mode,
      window: patch.window ?? before.window,
      requiredProof: patch.requiredProof ?? before.requiredProof,
    };
    const problem = shipmentProblems(merged)[0];
    if (problem !== undefined) throw invalid(`${problem.column}: ${problem.message}.`);
    const next = normalizeShipment(merged);
    const ciphertexts: Partial<Record<RecipientField, string | null>> = {};
    for (const field of ['name', 'phone', 'address'] as const) {
      const value = recipientPatch[field];
      if (value !== undefined) ciphertexts[field] = value === null ? null : await this.#encrypt(id, field, value);
    }
    if (ciphertexts.name === null || ciphertexts.address === null) throw invalid('The recipient name and address cannot be removed.');
    return this.#db.transaction().execute(async (trx) => {
      const current = summaryView(await loadSummaryRow(trx, id));
      if (current.status !== before.status || current.updatedAt !== before.updatedAt) throw new RampartError('shipment.invalid_transition', `shipment ${id} changed meanwhile`, { publicDetail: 'The shipment changed meanwhile; reload it and try again.' });
      const placement = await this.placementProblem(trx, next, id);
      if (placement !== undefined) throw placement;
      const now = this.#clock.now().toISOString();
      await trx
        .updateTable('shipments')
        .set({
          reference: next.reference,
          dest_lat: next.destination.lat,
          dest_lon: next.destination.lon,
          weight_kg: next.parcel.weightKg,
          length_cm: next.parcel.lengthCm,
          width_cm: next.parcel.widthCm,
          height_cm: next.parcel.heightCm,
          mode: next.mode,
          window_start: next.window.start,
          window_end: next.window.end,
          required_proof: JSON.stringify(next.requiredProof),
          ...(ciphertexts.name == null ? {} : { recipient_name: ciphertexts.name }),
          ...(ciphertexts.phone === undefined ? {} : { recipient_phone: ciphertexts.phone }),
          ...(ciphertexts.address == null ? {} : { recipient_address: ciphertexts.address }),
          updated_at: now,
        })
        .where('id', '=', id)
        .execute();
      const after = summaryView(await loadSummaryRow(trx, id));
      const destinationChanged = after.destination.lat !== before.destination.lat || after.destination.lon !== before.destination.lon;
      // Personal data appears only as the names of the fields that changed.
      await recordChange(trx, this.#clock, change, 'shipment.update', { type: 'shipment', id }, { ...diff(shipmentFacts(before), shipmentFacts(after)), recipientChanged: Object.keys(ciphertexts), destinationChanged });
      return after;
    });
  }

  /** Assigns a driver in a transaction of its own (see ShipmentLifecycle.assign). */
  assign(shipmentId: string, driverId: string, change: AuditedChange): Promise<ShipmentSummary> {
    return this.#db.transaction().execute((trx) => this.lifecycle.assign(trx, { ...change, shipmentId, driverId }));
  }

  unassign(shipmentId: string, change: AuditedChange): Promise<ShipmentSummary> {
    return this.#db.transaction().execute((trx) => this.lifecycle.unassign(trx, { ...change, shipmentId }));
  }

  /** A status change in a transaction of its own; the note is encrypted first. */
  async transition(shipmentId: string, request: { to: ProgressStatus; reason?: FailureReason | undefined; note?: string | undefined }, change: AuditedChange): Promise<ShipmentSummary> {
    const note = request.note === undefined || request.note.trim() === '' ? undefined : await this.lifecycle.sealNote(request.note);
    return this.#db.transaction().execute((trx) => this.lifecycle.transition(trx, { ...change, shipmentId, to: request.to, reason: request.reason, note }));
  }

  /** Replaces the tracking token: the old link stops working at once. Returns the new token (shown once). */
  async rotateTrackingToken(id: string, change: AuditedChange): Promise<string> {
    const { token, hash } = newTrackingToken();
    await this.#db.transaction().execute(async (trx) => {
      const row: SummaryRow = await loadSummaryRow(trx, id);
      await trx.updateTable('shipments').set({ tracking_token_hash: hash, updated_at: this.#clock.now().toISOString() }).where('id', '=', id).execute();
      await recordChange(trx, this.#clock, change, 'shipment.tracking_rotate', { type: 'shipment', id }, { trackingNumber: row.tracking_number });
    });
    return token;
  }
}
