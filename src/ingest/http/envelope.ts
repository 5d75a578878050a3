import type { IncomingHttpHeaders } from 'node:http';
import { checkMessageId, invalidEvent, type CandidateEvent } from '../events.ts';

// The Event Hubs / Service Bus REST framing of events:
//
// - single event: the body is the event; `Content-Type` is its type; the
//   `BrokerProperties` header is a JSON object of broker properties
//   (`MessageId`, `PartitionKey`, `CorrelationId`, …; unknown ones ignored);
//   every other non-standard header is an application property, named by the
//   header name (lower case: HTTP names are case-insensitive);
// - batch (`Content-Type: application/vnd.microsoft.servicebus.json`): a JSON
//   array of `{ "Body": string, "UserProperties"?: {…}, "BrokerProperties"?: {…},
//   "IsBodyBase64"?: boolean }`; property headers do not apply to batches.
//
// `Body` must be a string, as in the published format: a JSON reading is sent
// serialised into it. Objects are refused with a message saying so rather than
// guessed at (would `{}` be the document, or a mistake?).

export const BATCH_MEDIA_TYPE = 'application/vnd.microsoft.servicebus.json';

export interface BrokerProperties {
  readonly messageId?: string | undefined;
  readonly partitionKey?: string | undefined;
}

/** Transport and standard headers: never application properties. */
const STANDARD_HEADERS = new Set([
  'accept',
  'accept-charset',
  'accept-encoding',
  'accept-language',
  'authorization',
  'brokerproperties',
  'cache-control',
  'connection',
  'content-encoding',
  'content-language',
  'content-length',
  'content-md5',
  'content-type',
  'cookie',
  'date',
  'dnt',
  'expect',
  'forwarded',
  'host',
  'keep-alive',
  'origin',
  'pragma',
  'proxy-authorization',
  'proxy-connection',
  'referer',
  'te',
  'traceparent',
  'tracestate',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'upgrade-insecure-requests',
  'user-agent',
  'via',
  'x-real-ip',
  'x-request-id',
]);
const STANDARD_PREFIXES = ['if-', 'sec-', 'x-forwarded-', 'x-ms-', 'access-control-'];

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readBrokerProperties(value: unknown, index?: number): BrokerProperties {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw invalidEvent('BrokerProperties must be a JSON object', index);
  const messageId = value['MessageId'];
  const partitionKey = value['PartitionKey'];
  if (messageId !== undefined && typeof messageId !== 'string') throw invalidEvent('BrokerProperties.MessageId must be a string', index);
  if (partitionKey !== undefined && typeof partitionKey !== 'string') throw invalidEvent('BrokerProperties.PartitionKey must be a string', index);
  if (messageId !== undefined) checkMessageId(messageId, index);
  return { messageId, partitionKey };
}

/** The `BrokerProperties` header (absent: none). Throws `ingest.invalid_event`. */
export function parseBrokerPropertiesHeader(header: string | string[] | undefined): BrokerProperties {
  if (header === undefined) return {};
  if (Array.isArray(header)) throw invalidEvent('BrokerProperties header sent more than once');
  let parsed: unknown;
  try {
    parsed = JSON.parse(header);
  } catch {
    throw invalidEvent('BrokerProperties header is not JSON');
  }
  return readBrokerProperties(parsed);
}

/** A header value that is a JSON string literal (as Service Bus writes string properties) is unquoted. */
function propertyValue(raw: string): string {
  if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed === 'string') return parsed;
    } catch {
      // Not a JSON string: keep it as sent.
    }
  }
  return raw;
}

/** Application properties of a single event: its non-standard headers. */
export function headerProperties(headers: IncomingHttpHeaders): Record<string, string> {
  const entries: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || STANDARD_HEADERS.has(name) || STANDARD_PREFIXES.some((prefix) => name.startsWith(prefix))) continue;
    entries.push([name, propertyValue(Array.isArray(value) ? value.join(', ') : value)]);
  }
  // fromEntries defines own properties, so a header named `__proto__` stays a property.
  return Object.fromEntries(entries);
}

function userProperties(value: unknown, index: number): Record<string, string> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw invalidEvent('UserProperties must be a JSON object', index);
  const entries: Array<[string, string]> = [];
  for (const [name, item] of Object.entries(value)) {
    if (typeof item === 'string') entries.push([name, item]);
    else if ((typeof item === 'number' && Number.isFinite(item)) || typeof item === 'boolean') entries.push([name, String(item)]);
    else throw invalidEvent(`UserProperties.${name.slice(0, 40)} must be a string, number or boolean`, index);
  }
  return Object.fromEntries(entries);
}

const ENVELOPE_FIELDS = new Set(['Body', 'UserProperties', 'BrokerProperties', 'IsBodyBase64']);

export interface BatchEvent extends CandidateEvent {
  readonly partitionKey: string | undefined;
}

/** The events of a batch body, in order. Throws `ingest.invalid_event` naming the first problem. */
export function parseBatch(body: Uint8Array, maxBatchEvents: number): BatchEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(strictUtf8.decode(body));
  } catch {
    throw invalidEvent('a batch must be a UTF-8 JSON array of {"Body": "…"} objects');
  }
  if (!Array.isArray(parsed)) throw invalidEvent('a batch must be a JSON array of {"Body": "…"} objects');
  if (parsed.length === 0) throw invalidEvent('the batch is empty');
  if (parsed.length > maxBatchEvents) throw invalidEvent(`the batch has ${parsed.length} events; the limit is ${maxBatchEvents}`);
  return parsed.map((item: unknown, index): BatchEvent => {
    if (!isPlainObject(item)) throw invalidEvent('each batch entry must be an object with a "Body"', index);
    const unknown = Object.keys(item).find((key) => !ENVELOPE_FIELDS.has(key));
    if (unknown !== undefined) throw invalidEvent(`unknown field ${JSON.stringify(unknown.slice(0, 40))} (allowed: ${[...ENVELOPE_FIELDS].join(', ')})`, index);
    const text = item['Body'];
    if (typeof text !== 'string') throw invalidEvent('Body must be a string (send a JSON reading serialised into it)', index);
    const base64 = item['IsBodyBase64'];
    if (base64 !== undefined && typeof base64 !== 'boolean') throw invalidEvent('IsBodyBase64 must be a boolean', index);
    if (base64 === true && !BASE64.test(text)) throw invalidEvent('Body is not base64 although IsBodyBase64 is true', index);
    const broker = readBrokerProperties(item['BrokerProperties'], index);
    return {
      body: base64 === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8'),
      contentType: undefined,
      properties: userProperties(item['UserProperties'], index),
      messageId: broker.messageId,
      partitionKey: broker.partitionKey,
    };
  });
}

/** Whether the request's media type is the batch type. */
export function isBatch(contentType: string | undefined): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === BATCH_MEDIA_TYPE;
}
