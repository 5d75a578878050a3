import type { JsonValue } from '../audit/append.ts';
import { hasControl } from '../devices/registry.ts';
import { RampartError } from '../kernel/errors.ts';

// Input checks every delivery service shares: id patterns, printable text,
// coordinates and limits, each refused as a `request.invalid` naming the field.

export const DEPOT_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._ -]{0,63}$';
export const UNIT_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$';
export const ACCOUNT_ID_PATTERN = '^[A-Za-z0-9_-]{1,80}$';
export const MAX_NAME_LENGTH = 100;

export function invalid(message: string): RampartError {
  return new RampartError('request.invalid', message, { publicDetail: message });
}

export function checkName(name: string, what = 'The name'): void {
  if (name.trim() === '' || name.length > MAX_NAME_LENGTH || hasControl(name)) throw invalid(`${what} is 1–${MAX_NAME_LENGTH} printable characters.`);
}

export function checkText(text: string, max: number, what: string): void {
  if (text.trim() === '' || text.length > max || hasControl(text)) throw invalid(`${what} is 1–${max} printable characters.`);
}

export function checkPoint(lat: number, lon: number, what: string): void {
  if (!Number.isFinite(lat) || !Number.isFinite(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180) throw invalid(`${what} needs a latitude from -90 to 90 and a longitude from -180 to 180.`);
}

export function checkPositive(value: number, max: number, what: string): void {
  if (!Number.isFinite(value) || value <= 0 || value > max) throw invalid(`${what} is a number above 0 and at most ${max}.`);
}

/** Only the keys whose values differ, as before/after objects for an audit entry. */
export function diff(before: Record<string, JsonValue>, after: Record<string, JsonValue>): { before: Record<string, JsonValue>; after: Record<string, JsonValue> } {
  const changedBefore: Record<string, JsonValue> = {};
  const changedAfter: Record<string, JsonValue> = {};
  for (const key of Object.keys(after)) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      changedBefore[key] = before[key] ?? null;
      changedAfter[key] = after[key] ?? null;
    }
  }
  return { before: changedBefore, after: changedAfter };
}
