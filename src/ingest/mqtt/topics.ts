// The IoT Hub MQTT conventions devices already speak:
//   client id   <deviceId>
//   username    <hub host>/<deviceId>/?api-version=…   (the query is not interpreted)
//   password    a SAS token whose `sr` is <hub host>/devices/<deviceId>
//   telemetry   devices/<deviceId>/messages/events/<URL-encoded property bag>
//   commands    devices/<deviceId>/messages/devicebound/<URL-encoded property bag>
// System properties travel in the bag under `$.`-prefixed names (`$.mid`
// message id, `$.ct` content type, `$.ce` content encoding, `$.cid` correlation id).

/** Property names that carry the message id, IoT Hub's system name first. */
const MESSAGE_ID_NAMES = ['$.mid', 'message-id', 'messageId'] as const;
const CONTENT_TYPE_NAMES = ['$.ct', 'content-type'] as const;
/** Decoding stops here; the event checks (ingest/events.ts) apply the real limit. */
const MAX_BAG_PROPERTIES = 256;

export interface DeviceUsername {
  readonly host: string;
  readonly deviceId: string;
}

/** `<host>/<deviceId>/?<query>` (the `/?<query>` part optional); undefined when malformed. */
export function parseUsername(username: string): DeviceUsername | undefined {
  const match = /^([^/]+)\/([^/?]+)(?:\/(?:\?.*)?)?$/s.exec(username);
  if (match === null) return undefined;
  const [, host = '', deviceId = ''] = match;
  return { host: host.toLowerCase(), deviceId };
}

export const eventsPrefix = (deviceId: string): string => `devices/${deviceId}/messages/events/`;
export const deviceboundPrefix = (deviceId: string): string => `devices/${deviceId}/messages/devicebound/`;

/** A subscription a device may hold: its devicebound `#`, or one exact topic beneath it. */
export function isOwnDeviceboundFilter(deviceId: string, filter: string): boolean {
  const prefix = deviceboundPrefix(deviceId);
  if (filter === `${prefix}#`) return true;
  return filter.startsWith(prefix) && !filter.includes('#') && !filter.includes('+');
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

/** Decodes `k=v&k2=v2` (percent-encoded); a name without `=` has the empty value. */
export function parsePropertyBag(bag: string): Parsed<ReadonlyMap<string, string>> {
  const properties = new Map<string, string>();
  if (bag === '') return { ok: true, value: properties };
  for (const part of bag.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(eq === -1 ? part : part.slice(0, eq));
      value = eq === -1 ? '' : decodeURIComponent(part.slice(eq + 1));
    } catch {
      return { ok: false, problem: 'property bag is not valid percent-encoding' };
    }
    if (properties.has(name)) return { ok: false, problem: `property ${name.slice(0, 40)} appears twice` };
    properties.set(name, value);
    if (properties.size > MAX_BAG_PROPERTIES) return { ok: false, problem: `more than ${MAX_BAG_PROPERTIES} properties` };
  }
  return { ok: true, value: properties };
}

export function encodePropertyBag(properties: Readonly<Record<string, string>>): string {
  return Object.entries(properties)
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('&');
}

export interface TelemetryMessage {
  /** As the device declared it (`$.ct`), or undefined. */
  readonly contentType: string | undefined;
  readonly messageId: string | undefined;
  /** Application properties, plus system properties other than the message id and content type, as sent. */
  readonly properties: Readonly<Record<string, string>>;
}

function takeOne(properties: Map<string, string>, names: readonly string[]): Parsed<string | undefined> {
  let found: string | undefined;
  for (const name of names) {
    const value = properties.get(name);
    if (value === undefined) continue;
    properties.delete(name);
    if (found !== undefined && found !== value) return { ok: false, problem: `${names.join(', ')} disagree` };
    found = value;
  }
  return { ok: true, value: found };
}

/**
 * Reads a telemetry topic of `deviceId`: exactly `devices/<deviceId>/messages/events/`
 * followed by an optional property bag. Any other topic is `undefined`.
 * Names, values and counts are checked later, with every other ingest path's events.
 */
export function parseTelemetryTopic(deviceId: string, topic: string): Parsed<TelemetryMessage> | undefined {
  const prefix = eventsPrefix(deviceId);
  if (!topic.startsWith(prefix)) return undefined;
  const bag = topic.slice(prefix.length);
  if (bag.includes('/')) return undefined;
  const parsed = parsePropertyBag(bag);
  if (!parsed.ok) return parsed;
  const properties = new Map(parsed.value);
  const messageId = takeOne(properties, MESSAGE_ID_NAMES);
  if (!messageId.ok) return messageId;
  const contentType = takeOne(properties, CONTENT_TYPE_NAMES);
  if (!contentType.ok) return contentType;
  return {
    ok: true,
    value: {
      contentType: contentType.value,
      messageId: messageId.value,
      // fromEntries defines own properties, so a name like `__proto__` stays data.
      properties: Object.fromEntries(properties),
    },
  };
}
