import type { Kysely } from 'kysely';
import { type AuditedChange, type JsonValue, recordChange } from '../../audit/append.ts';
import type { Keyring } from '../../crypto/keyring.ts';
import type { Clock } from '../../kernel/clock.ts';
import { RampartError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { Tables } from '../../storage/tables.ts';
import { invalid } from '../checks.ts';
import { checkDriverFor } from '../fleet/fleet.service.ts';
import { eventTypeFor, type ShipmentEvent, type ShipmentEventSink } from './events.ts';
import { loadSummaryRow, summaryView, type ShipmentSummary, type SummaryRow } from './shipments.store.ts';
import { checkTransition, MAX_NOTE_LENGTH, type FailureReason, type ShipmentStatus } from './status.ts';

// Status changes, as domain functions that run inside the caller's
// transaction: the API, the CLI, route planning (assign/unassign) and proof of
// delivery (delivered) all change a shipment's status through these, and each
// change writes its history row, its audit entry and its domain events in that
// one transaction. Nothing here encrypts: a note is sealed before the
// transaction opens (`sealNote`), because on SQLite the keyring would need the
// connection the transaction holds.

export interface SealedNote {
  /** The id of the history row the note is bound to. */
  readonly eventId: string;
  readonly text: string;
  readonly ciphertext: string;
}

export interface AssignInput extends AuditedChange {
  readonly shipmentId: string;
  readonly driverId: string;
}

export interface UnassignInput extends AuditedChange {
  readonly shipmentId: string;
}

export type ProgressStatus = 'out_for_delivery' | 'delivered' | 'failed' | 'returned';

export interface TransitionInput extends AuditedChange {
  readonly shipmentId: string;
  readonly to: ProgressStatus;
  readonly reason?: FailureReason | undefined;
  readonly note?: SealedNote | undefined;
}

export interface HistoryRowInput {
  readonly id?: string;
  readonly shipmentId: string;
  readonly from: ShipmentStatus | null;
  readonly to: ShipmentStatus;
  readonly reason: FailureReason | null;
  readonly note: string | null;
  readonly driverId: string | null;
  readonly change: AuditedChange;
  readonly at: string;
}

export class ShipmentLifecycle {
  readonly #clock: Clock;
  readonly #keyring: Keyring;
  readonly #sinks: readonly ShipmentEventSink[];

  constructor(options: { clock: Clock; keyring: Keyring; sinks?: readonly ShipmentEventSink[] }) {
    this.#clock = options.clock;
    this.#keyring = options.keyring;
    this.#sinks = options.sinks ?? [];
  }

  /** Encrypts a note for the history row it will belong to. Call before the transaction. */
  async sealNote(text: string): Promise<SealedNote> {
    const trimmed = text.trim();
    if (trimmed === '' || trimmed.length > MAX_NOTE_LENGTH) throw invalid(`Notes are 1–${MAX_NOTE_LENGTH} characters.`);
    const eventId = newId('sev');
    return { eventId, text: trimmed, ciphertext: await this.#keyring.encryptField({ table: 'shipment_events', column: 'note', rowId: eventId }, trimmed) };
  }

  /** Appends a history row (seq = last + 1). */
  async recordHistory(trx: Kysely<Tables>, input: HistoryRowInput): Promise<void> {
    const last = await trx.selectFrom('shipment_events').select((eb) => eb.fn.max('seq').as('seq')).where('shipment_id', '=', input.shipmentId).executeTakeFirst();
    await trx
      .insertInto('shipment_events')
      .values({
        id: input.id ?? newId('sev'),
        shipment_id: input.shipmentId,
        seq: (last?.seq ?? 0) + 1,
        from_status: input.from,
        to_status: input.to,
        reason: input.reason,
        note: input.note,
        driver_id: input.driverId,
        actor_type: input.change.actor.type,
        actor_id: input.change.actor.id ?? null,
        at: input.at,
      })
      .execute();
  }

  /** Calls every sink in the transaction; one that throws rolls the change back. */
  async publish(trx: Kysely<Tables>, row: SummaryRow, type: ShipmentEvent['type'], at: string): Promise<void> {
    if (this.#sinks.length === 0) return;
    const event: ShipmentEvent = {
      type,
      shipmentId: row.id,
      trackingNumber: row.tracking_number,
      status: row.status,
      depotId: row.depot_id,
      window: { start: row.window_start, end: row.window_end },
      ...(row.status === 'failed' && row.failure_reason !== null ? { reason: row.failure_reason } : {}),
      at,
    };
    for (const sink of this.#sinks) await sink(trx, event);
  }

  /**
   * Assigns the shipment to a driver: created → assigned, failed → assigned
   * (another attempt), or assigned → assigned with another driver. The driver
   * must be an enabled driver (active or awaiting their own setup, not
   * disabled) whose home depot is the shipment's.
   */
  async assign(trx: Kysely<Tables>, input: AssignInput): Promise<ShipmentSummary> {
    const before = await loadSummaryRow(trx, input.shipmentId);
    if (before.status === 'assigned' && before.assigned_driver_id === input.driverId) return summaryView(before);
    if (before.status !== 'assigned') checkTransition(before.status, { to: 'assigned' });
    await checkDriverFor(trx, input.driverId, before.depot_id);
    const at = this.#clock.now().toISOString();
    const updated = await trx
      .updateTable('shipments')
      .set({ status: 'assigned', assigned_driver_id: input.driverId, failure_reason: null, last_event_at: at, updated_at: at })
      .where('id', '=', before.id)
      .where('status', '=', before.status)
      .where((eb) => (before.assigned_driver_id === null ? eb('assigned_driver_id', 'is', null) : eb('assigned_driver_id', '=', before.assigned_driver_id)))
      .executeTakeFirst();
    if (updated.numUpdatedRows !== 1n) throw raced(before.id);
    return this.#finish(trx, before, { to: 'assigned', reason: null, note: null, driverId: input.driverId, change: input, at, action: 'shipment.assign', details: { from: before.status, to: 'assigned', driver: input.driverId, previousDriver: before.assigned_driver_id } });
  }

  /** assigned → created: the driver is cleared (a planned route was dropped). No domain event. */
  async unassign(trx: Kysely<Tables>, input: UnassignInput): Promise<ShipmentSummary> {
    const before = await loadSummaryRow(trx, input.shipmentId);
    checkTransition(before.status, { to: 'created' });
    const at = this.#clock.now().toISOString();
    const updated = await trx.updateTable('shipments').set({ status: 'created', assigned_driver_id: null, last_event_at: at, updated_at: at }).where('id', '=', before.id).where('status', '=', 'assigned').executeTakeFirst();
    if (updated.numUpdatedRows !== 1n) throw raced(before.id);
    return this.#finish(trx, before, { to: 'created', reason: null, note: null, driverId: null, change: input, at, action: 'shipment.unassign', details: { from: before.status, to: 'created', previousDriver: before.assigned_driver_id } });
  }

  /** out_for_delivery, delivered, failed (with a reason) or returned, as the status machine allows. */
  async transition(trx: Kysely<Tables>, input: TransitionInput): Promise<ShipmentSummary> {
    if ((input.to as string) === 'assigned' || (input.to as string) === 'created') throw invalid('Assign or unassign a driver to change to this status.');
    const before = await loadSummaryRow(trx, input.shipmentId);
    const checked = checkTransition(before.status, { to: input.to, reason: input.reason, note: input.note?.text });
    const at = this.#clock.now().toISOString();
    const updated = await trx
      .updateTable('shipments')
      .set({ status: checked.to, ...(checked.to === 'failed' ? { failure_reason: checked.reason } : {}), last_event_at: at, updated_at: at })
      .where('id', '=', before.id)
      .where('status', '=', before.status)
      .executeTakeFirst();
    if (updated.numUpdatedRows !== 1n) throw raced(before.id);
    return this.#finish(trx, before, {
      to: checked.to,
      reason: checked.reason,
      note: input.note ?? null,
      driverId: before.assigned_driver_id,
      change: input,
      at,
      action: 'shipment.status_change',
      details: { from: before.status, to: checked.to, reason: checked.reason, note: input.note !== undefined },
    });
  }

  async #finish(
    trx: Kysely<Tables>,
    before: SummaryRow,
    step: { to: ShipmentStatus; reason: FailureReason | null; note: SealedNote | null; driverId: string | null; change: AuditedChange; at: string; action: string; details: Record<string, JsonValue> },
  ): Promise<ShipmentSummary> {
    await this.recordHistory(trx, { ...(step.note === null ? {} : { id: step.note.eventId }), shipmentId: before.id, from: before.status, to: step.to, reason: step.reason, note: step.note?.ciphertext ?? null, driverId: step.driverId, change: step.change, at: step.at });
    // Audit details name statuses, reasons and account ids only: the note may name people.
    await recordChange(trx, this.#clock, step.change, step.action, { type: 'shipment', id: before.id }, { trackingNumber: before.tracking_number, ...step.details });
    const after = await loadSummaryRow(trx, before.id);
    const type = eventTypeFor(step.to);
    if (type !== undefined) await this.publish(trx, after, type, step.at);
    return summaryView(after);
  }
}

function raced(id: string): RampartError {
  return new RampartError('shipment.invalid_transition', `shipment ${id} changed meanwhile`, { publicDetail: 'The shipment changed meanwhile; reload it and try again.' });
}
