import { hasControl } from '../../devices/registry.ts';
import { DEPOT_ID_PATTERN } from '../checks.ts';
import { DELIVERY_MODES, PROOF_KINDS, type DeliveryMode, type ProofKind, type TimeWindow } from './shipments.store.ts';

// The rules for a shipment's fields, shared by the API (first problem
// reported) and CSV import (every problem, by column). Problems name fields
// by their CSV column; messages are safe to show and never echo personal data.

export const MAX_RECIPIENT_NAME = 200;
export const MAX_ADDRESS = 500;
export const MAX_REFERENCE = 64;
export const MAX_WEIGHT_KG = 2_000;
export const MAX_DIMENSION_CM = 1_000;
export const MAX_WINDOW_HOURS = 14 * 24;
export const PHONE_PATTERN = '^\\+?[0-9][0-9 ()./-]{2,31}$';
export const REFERENCE_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,63}$';
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;

export interface NewShipment {
  readonly depotId: string;
  readonly reference: string | null;
  readonly recipient: { readonly name: string; readonly phone: string | null; readonly address: string };
  readonly destination: { readonly lat: number; readonly lon: number };
  readonly parcel: { readonly weightKg: number; readonly lengthCm: number | null; readonly widthCm: number | null; readonly heightCm: number | null };
  readonly mode: DeliveryMode;
  readonly window: TimeWindow;
  readonly requiredProof: readonly ProofKind[];
}

export interface FieldProblem {
  /** The CSV column (and API field path) at fault. */
  readonly column: string;
  readonly message: string;
}

/** An ISO-8601 time with an offset, normalised to UTC; undefined when it is not one. */
export function parseTimestamp(text: string): string | undefined {
  if (!TIMESTAMP.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

function printable(text: string, max: number): boolean {
  return text.trim() !== '' && text.length <= max && !hasControl(text);
}

export function checkRecipientName(name: string): FieldProblem | undefined {
  return printable(name, MAX_RECIPIENT_NAME) ? undefined : { column: 'recipient_name', message: `1–${MAX_RECIPIENT_NAME} printable characters` };
}

export function checkPhone(phone: string | null): FieldProblem | undefined {
  return phone === null || new RegExp(PHONE_PATTERN).test(phone) ? undefined : { column: 'recipient_phone', message: 'digits, spaces and ( ) . / -, optionally starting with +; 3–32 characters' };
}

export function checkAddress(address: string): FieldProblem | undefined {
  return printable(address, MAX_ADDRESS) ? undefined : { column: 'recipient_address', message: `1–${MAX_ADDRESS} printable characters on one line` };
}

/** Every problem with the fields of a new (or edited) shipment. */
export function shipmentProblems(input: NewShipment): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const add = (problem: FieldProblem | undefined) => {
    if (problem !== undefined) problems.push(problem);
  };
  if (!new RegExp(DEPOT_ID_PATTERN).test(input.depotId)) add({ column: 'depot', message: 'not a depot id' });
  if (input.reference !== null && !new RegExp(REFERENCE_PATTERN).test(input.reference)) add({ column: 'reference', message: `1–${MAX_REFERENCE} characters: letters, digits and . _ : / # -` });
  add(checkRecipientName(input.recipient.name));
  add(checkPhone(input.recipient.phone));
  add(checkAddress(input.recipient.address));
  const { lat, lon } = input.destination;
  if (!Number.isFinite(lat) || lat < -90 || lat > 90) add({ column: 'destination_lat', message: 'a latitude from -90 to 90' });
  if (!Number.isFinite(lon) || lon < -180 || lon > 180) add({ column: 'destination_lon', message: 'a longitude from -180 to 180' });
  const { weightKg, lengthCm, widthCm, heightCm } = input.parcel;
  if (!Number.isFinite(weightKg) || weightKg <= 0 || weightKg > MAX_WEIGHT_KG) add({ column: 'weight_kg', message: `a weight above 0 and at most ${MAX_WEIGHT_KG} kg` });
  for (const [column, value] of [['length_cm', lengthCm], ['width_cm', widthCm], ['height_cm', heightCm]] as const) {
    if (value !== null && (!Number.isFinite(value) || value <= 0 || value > MAX_DIMENSION_CM)) add({ column, message: `empty, or above 0 and at most ${MAX_DIMENSION_CM} cm` });
  }
  if (!(DELIVERY_MODES as readonly string[]).includes(input.mode)) add({ column: 'mode', message: `one of ${DELIVERY_MODES.join(', ')}` });
  const start = parseTimestamp(input.window.start);
  const end = parseTimestamp(input.window.end);
  if (start === undefined) add({ column: 'window_start', message: 'an ISO-8601 time with an offset, e.g. 2026-05-04T09:00:00+02:00' });
  if (end === undefined) add({ column: 'window_end', message: 'an ISO-8601 time with an offset, e.g. 2026-05-04T12:00:00+02:00' });
  if (start !== undefined && end !== undefined) {
    const span = Date.parse(end) - Date.parse(start);
    if (span <= 0) add({ column: 'window_end', message: 'after window_start' });
    else if (span > MAX_WINDOW_HOURS * 3_600_000) add({ column: 'window_end', message: `at most ${MAX_WINDOW_HOURS / 24} days after window_start` });
  }
  const proof = input.requiredProof;
  if (proof.length === 0 || proof.some((p) => !(PROOF_KINDS as readonly string[]).includes(p)) || new Set(proof).size !== proof.length) {
    add({ column: 'required_proof', message: `one or more of ${PROOF_KINDS.join(', ')}, each once` });
  }
  return problems;
}

/** The input with times in UTC and proofs in a stable order (call after `shipmentProblems` found none). */
export function normalizeShipment(input: NewShipment): NewShipment {
  return {
    ...input,
    window: { start: parseTimestamp(input.window.start) ?? input.window.start, end: parseTimestamp(input.window.end) ?? input.window.end },
    requiredProof: PROOF_KINDS.filter((p) => input.requiredProof.includes(p)),
  };
}
