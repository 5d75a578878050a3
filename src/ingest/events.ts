import type { RampartConfig } from '../config/schema.ts';
import { RampartError } from '../kernel/errors.ts';
import type { EventInput } from '../stream/event-log.ts';
import { telemetrySchema } from '../telemetry/payload-schemas.ts';

// What every ingest front end (HTTPS here, MQTT later) does to an event before
// it may be appended: size, encoding, content type, properties and the hub's
// telemetry schema. Protocol-neutral: front ends turn their framing into a
// CandidateEvent and throw whatever this throws.

export type HubRules = RampartConfig['hubs'][string];

export interface EventLimits {
  readonly maxEventBytes: number;
}

export interface CandidateEvent {
  readonly body: Uint8Array;
  /** The media type the sender declared; undefined when it declared none. */
  readonly contentType: string | undefined;
  readonly properties: Readonly<Record<string, string>>;
  readonly messageId?: string | undefined;
}

/** Properties Rampart itself sets; a sender may not forge them. */
export const RESERVED_PROPERTY_PREFIX = 'rampart-';
export const SCHEMA_INVALID_PROPERTY = 'rampart-schema-invalid';
export const SCHEMA_PROBLEM_PROPERTY = 'rampart-schema-problem';

export const MAX_PROPERTIES = 64;
export const MAX_PROPERTY_NAME = 128;
export const MAX_PROPERTY_VALUE = 1024;
export const MAX_MESSAGE_ID = 128;
const MAX_CONTENT_TYPE = 200;

const JSON_MEDIA_TYPE = 'application/json';
const OCTET_STREAM = 'application/octet-stream';
/** Printable ASCII without separators that matter in logs and headers. */
const PROPERTY_NAME = /^[\x21-\x7e]+$/;
// No control characters (C0, DEL); property values end up in headers and logs.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Refusal of one event; `index` (0-based) names it inside a batch. */
export function invalidEvent(problem: string, index?: number): RampartError {
  const where = index === undefined ? '' : `event ${index}: `;
  return new RampartError('ingest.invalid_event', `${where}${problem}`, { publicDetail: `${where}${problem}` });
}

function unsupportedType(detail: string): RampartError {
  return new RampartError('request.unsupported_media_type', detail, { publicDetail: detail });
}

interface MediaType {
  readonly essence: string;
  readonly charset: string | undefined;
}

function parseMediaType(value: string): MediaType | undefined {
  if (value.length > MAX_CONTENT_TYPE || CONTROL.test(value)) return undefined;
  const [essence = '', ...params] = value.split(';').map((part) => part.trim());
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/i.test(essence)) return undefined;
  let charset: string | undefined;
  for (const param of params) {
    const match = /^charset\s*=\s*"?([^";]*)"?$/i.exec(param);
    if (match?.[1] !== undefined) charset = match[1].toLowerCase();
  }
  return { essence: essence.toLowerCase(), charset };
}

function isJsonType(essence: string): boolean {
  return essence === JSON_MEDIA_TYPE || essence === 'text/json' || (essence.startsWith('application/') && essence.endsWith('+json'));
}

/**
 * The Event Hubs REST examples send `application/atom+xml;type=entry` whatever
 * the payload; clients built from them are treated as having declared nothing.
 */
function isUnspecified(type: MediaType | undefined, raw: string | undefined): boolean {
  return raw === undefined || raw.trim() === '' || type?.essence === 'application/atom+xml';
}

function checkProperties(properties: Readonly<Record<string, string>>, index: number | undefined): void {
  const names = Object.keys(properties);
  if (names.length > MAX_PROPERTIES) throw invalidEvent(`more than ${MAX_PROPERTIES} properties`, index);
  for (const name of names) {
    const value = properties[name] ?? '';
    if (name.length === 0 || name.length > MAX_PROPERTY_NAME || !PROPERTY_NAME.test(name)) throw invalidEvent(`property name ${JSON.stringify(name.slice(0, 40))} is not 1 to ${MAX_PROPERTY_NAME} printable ASCII characters`, index);
    if (name.toLowerCase().startsWith(RESERVED_PROPERTY_PREFIX)) throw invalidEvent(`property ${name}: names starting with "${RESERVED_PROPERTY_PREFIX}" are reserved`, index);
    if (value.length > MAX_PROPERTY_VALUE) throw invalidEvent(`property ${name}: longer than ${MAX_PROPERTY_VALUE} characters`, index);
    if (CONTROL.test(value)) throw invalidEvent(`property ${name}: contains control characters`, index);
  }
}

export function checkMessageId(messageId: string, index?: number): void {
  if (messageId.length === 0 || messageId.length > MAX_MESSAGE_ID || CONTROL.test(messageId)) {
    throw invalidEvent(`MessageId must be 1 to ${MAX_MESSAGE_ID} characters without control characters`, index);
  }
}

/** The UTF-8 JSON document in `body`, or undefined when it is not one. */
function parseJson(body: Uint8Array): { ok: true; value: unknown } | { ok: false; problem: string } {
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    return { ok: false, problem: 'body is not valid UTF-8' };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, problem: `body is not valid JSON (${(error as Error).message.slice(0, 120)})` };
  }
}

/**
 * Checks one event against its hub's rules and returns what to append, or
 * throws `ingest.invalid_event` (or `request.unsupported_media_type`) naming
 * the first problem. `index` is the event's place in a batch.
 */
/** An event ready to append, with the JSON value its body held when it was checked as JSON. */
export type PreparedEvent = EventInput & { readonly json?: unknown };

export function prepareEvent(publisher: string, candidate: CandidateEvent, rules: HubRules, limits: EventLimits, index?: number): PreparedEvent {
  const { body } = candidate;
  if (body.byteLength === 0) throw invalidEvent('body is empty', index);
  if (body.byteLength > limits.maxEventBytes) throw invalidEvent(`body is ${body.byteLength} bytes; the limit is ${limits.maxEventBytes}`, index);
  checkProperties(candidate.properties, index);
  if (candidate.messageId !== undefined) checkMessageId(candidate.messageId, index);

  const declared = candidate.contentType === undefined ? undefined : parseMediaType(candidate.contentType);
  const unspecified = isUnspecified(declared, candidate.contentType);
  if (!unspecified && declared === undefined) throw unsupportedType('the content type is malformed');
  const declaredJson = declared !== undefined && isJsonType(declared.essence);
  if (declaredJson && declared.charset !== undefined && declared.charset !== 'utf-8' && declared.charset !== 'utf8') {
    throw unsupportedType('JSON events must be UTF-8');
  }
  if (!rules.allowNonJson && !unspecified && !declaredJson) {
    throw unsupportedType('this hub accepts only JSON events (application/json)');
  }

  const properties: Record<string, string> = { ...candidate.properties };
  let contentType: string;
  let json: unknown;
  if (declaredJson || !rules.allowNonJson) {
    const parsed = parseJson(body);
    if (!parsed.ok) throw invalidEvent(parsed.problem, index);
    json = parsed.value;
    const schema = telemetrySchema(rules.schema);
    const problem = schema?.firstProblem(parsed.value);
    if (problem !== undefined) {
      if (rules.onInvalid === 'refuse') throw invalidEvent(`does not match the ${rules.schema} telemetry schema: ${problem}`, index);
      properties[SCHEMA_INVALID_PROPERTY] = 'true';
      properties[SCHEMA_PROBLEM_PROPERTY] = problem.slice(0, MAX_PROPERTY_VALUE);
    }
    contentType = declaredJson && declared.essence !== 'text/json' ? declared.essence : JSON_MEDIA_TYPE;
  } else if (unspecified) {
    // Binary-capable hub and no declared type: JSON if it is JSON, bytes otherwise.
    const parsed = parseJson(body);
    contentType = parsed.ok ? JSON_MEDIA_TYPE : OCTET_STREAM;
    if (parsed.ok) json = parsed.value;
  } else {
    contentType = candidate.contentType?.trim() ?? OCTET_STREAM;
  }

  return {
    publisher,
    contentType,
    properties,
    body,
    ...(candidate.messageId === undefined ? {} : { messageId: candidate.messageId }),
    ...(json === undefined ? {} : { json }),
  };
}

/** Whether a stored content type is JSON (the read API renders such bodies as JSON). */
export function isJsonContentType(contentType: string): boolean {
  const type = parseMediaType(contentType);
  return type !== undefined && isJsonType(type.essence);
}
