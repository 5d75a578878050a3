import { join } from 'node:path';
import { Value } from 'typebox/value';
import { HUB_NAME_PATTERN, HubSettingsSchema, type HubSettings, type RampartConfig } from '../config/schema.ts';
import { RampartError } from '../kernel/errors.ts';
import type { HubChanges, HubDefinition, HubSpec } from './event-log.ts';

// Hub definitions: the configured ones, and the checks every EventLog
// implementation applies to hubs created or changed at run time — the same
// rules as `hubs` in the configuration, so an API-created hub is one the
// configuration could have named.

const HUB_NAME = new RegExp(HUB_NAME_PATTERN);
const SETTING_NAMES: readonly (keyof HubSettings)[] = ['partitions', 'retentionHours', 'retentionMaxBytes', 'schema', 'onInvalid', 'allowNonJson'];

/** The configured hubs as the event log takes them, in configuration order. */
export function hubDefinitions(config: RampartConfig): HubSpec[] {
  return Object.entries(config.hubs).map(([name, hub]) => ({ name, ...hubSettingsOf(hub) }));
}

/** Only a hub's settings, from anything that carries them (a definition, a configured hub). */
export function hubSettingsOf(hub: HubSettings): HubSettings {
  return {
    partitions: hub.partitions,
    retentionHours: hub.retentionHours,
    retentionMaxBytes: hub.retentionMaxBytes,
    schema: hub.schema,
    onInvalid: hub.onInvalid,
    allowNonJson: hub.allowNonJson,
  };
}

/** Where the embedded event log lives: `eventLog.path`, or `<dataDir>/events.db`. */
export function eventLogPath(config: RampartConfig): string {
  return config.eventLog.path === '' ? join(config.dataDir, 'events.db') : config.eventLog.path;
}

function invalid(detail: string): RampartError {
  return new RampartError('request.invalid', detail, { publicDetail: detail });
}

/** A given value for an error message, shortened. */
function shown(value: unknown): string {
  // JSON.stringify answers undefined for undefined (and functions), whatever its declared type says.
  const text = JSON.stringify(value) as string | undefined;
  return text === undefined ? 'nothing' : text.slice(0, 60);
}

/** Callers in JavaScript, or with JSON from elsewhere, may pass anything: checked as what it is. */
function fieldsOf(value: unknown, what: string): Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${what} must be an object`);
  return value as Readonly<Record<string, unknown>>;
}

function unknownSettings(keys: readonly string[]): RampartError | undefined {
  const unknown = keys.filter((key) => !(SETTING_NAMES as readonly string[]).includes(key));
  return unknown.length === 0 ? undefined : invalid(`unknown hub setting ${unknown.map((key) => JSON.stringify(key.slice(0, 40))).join(', ')}`);
}

function settingsOf(value: Readonly<Record<string, unknown>>): HubSettings {
  const settings = Object.fromEntries(SETTING_NAMES.map((name) => [name, value[name]]));
  for (const error of Value.Errors(HubSettingsSchema, settings)) {
    const field = error.instancePath.split('/').filter(Boolean).join('.');
    const allowed = (error.params as { allowedValues?: unknown[] }).allowedValues;
    const rule = error.keyword === 'enum' && allowed !== undefined ? `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}` : error.message;
    throw invalid(field === '' ? `hub settings ${rule}` : `${field} ${rule} (given ${shown(value[field])})`);
  }
  return settings as HubSettings;
}

/** The spec with exactly a hub's fields; request.invalid names the first problem. */
export function checkHubSpec(spec: HubSpec): HubSpec {
  const given = fieldsOf(spec, 'a hub');
  const name = given['name'];
  if (typeof name !== 'string' || !HUB_NAME.test(name)) {
    throw invalid(`a hub name is 1 to 50 characters of a–z, 0–9 and "-", starting with a letter (${HUB_NAME_PATTERN}); not ${shown(name)}`);
  }
  const unknown = unknownSettings(Object.keys(given).filter((key) => key !== 'name'));
  if (unknown !== undefined) throw unknown;
  return { name, ...settingsOf(given) };
}

/**
 * The definition `current` becomes with `changes`, stamped `now`. Refuses a
 * configured hub (the configuration is authoritative and would undo the change
 * at the next start) and any other partition count.
 */
export function changedHub(current: HubDefinition, changes: HubChanges, now: string): HubDefinition {
  if (current.origin === 'config') {
    const detail = `hub ${current.name} is defined in the configuration (hubs.${current.name}); change it in the configuration`;
    throw new RampartError('hub.configured', detail, { publicDetail: detail });
  }
  const given = fieldsOf(changes, 'hub changes');
  const unknown = unknownSettings(Object.keys(given));
  if (unknown !== undefined) throw unknown;
  if (Object.keys(given).length === 0) throw invalid(`give at least one of ${SETTING_NAMES.join(', ')}`);
  if (given['partitions'] !== undefined && given['partitions'] !== current.partitions) {
    const detail =
      `hub ${current.name} has ${current.partitions} partitions and keeps them: a publisher's partition is a hash of its id modulo the count, ` +
      `so another count would move devices to other partitions and break the order of their events. Create a new hub instead.`;
    throw new RampartError('hub.partitions_fixed', detail, { publicDetail: detail });
  }
  const merged: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(given)) if (value !== undefined) merged[key] = value;
  const settings = settingsOf(merged);
  return { name: current.name, ...settings, origin: current.origin, createdAt: current.createdAt, updatedAt: now };
}
