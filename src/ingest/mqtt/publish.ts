import type { RampartConfig } from '../../config/schema.ts';
import type { AuthenticatedDevice } from '../../devices/auth.ts';
import { isRampartError } from '../../kernel/errors.ts';
import { prepareEvent, type HubRules, type PreparedEvent } from '../events.ts';
import { REASON } from './v5.ts';
import { parseTelemetryTopic } from './topics.ts';

// What a device may publish: its own telemetry topic, QoS 0 or 1, never
// retained, at most ingest.maxEventBytes, into the telemetry hub of its kind,
// passing the same event checks as every other ingest path.

/** The hub each kind of device sends telemetry to. */
export const TELEMETRY_HUBS: Readonly<Record<AuthenticatedDevice['kind'], string>> = {
  drone: 'drone-telemetry',
  truck: 'truck-telemetry',
};

export interface PublishRequest {
  readonly topic: string;
  readonly qos: number;
  readonly retain: boolean;
  readonly payload: Buffer;
}

export type PublishDecision =
  | { readonly ok: true; readonly hub: string; readonly event: PreparedEvent }
  | {
      readonly ok: false;
      /** For metrics and logs. */
      readonly reason: string;
      /** MQTT 5 DISCONNECT reason code (MQTT 3.1.1 clients are simply disconnected). */
      readonly reasonCode: number;
      /** Publishing as another device is a publisher-policy failure, recorded like an authentication failure. */
      readonly publisherPolicy: boolean;
      readonly detail: string;
    };

export interface PublishLimits {
  /** The event log's live hub definitions (EventLog.hubs): hubs created or changed through the API included. */
  readonly hubs: ReadonlyMap<string, HubRules>;
  readonly ingest: RampartConfig['ingest'];
}

const refuse = (reason: string, reasonCode: number, detail: string, publisherPolicy = false): PublishDecision => ({ ok: false, reason, reasonCode, publisherPolicy, detail });

export function admitPublish(device: AuthenticatedDevice, request: PublishRequest, limits: PublishLimits): PublishDecision {
  if (request.qos > 1) return refuse('qos_not_supported', REASON.qosNotSupported, 'QoS 2 is not supported');
  if (request.retain) return refuse('retain_not_supported', REASON.retainNotSupported, 'retained messages are not supported');
  const message = parseTelemetryTopic(device.id, request.topic);
  if (message === undefined) return refuse('forbidden_topic', REASON.notAuthorized, 'a device publishes only to devices/<its id>/messages/events/', true);
  if (!message.ok) return refuse('ingest.invalid_event', REASON.topicNameInvalid, message.problem);
  if (request.payload.length > limits.ingest.maxEventBytes) {
    return refuse('too_large', REASON.packetTooLarge, `body is ${request.payload.length} bytes; the limit is ${limits.ingest.maxEventBytes}`);
  }
  const hub = TELEMETRY_HUBS[device.kind];
  const rules = limits.hubs.get(hub);
  if (rules === undefined) return refuse('ingest.unknown_hub', REASON.unspecified, `hub ${hub} is not configured`);
  const { contentType, messageId, properties } = message.value;
  try {
    const event = prepareEvent(device.id, { body: request.payload, contentType, properties, messageId }, rules, { maxEventBytes: limits.ingest.maxEventBytes });
    return { ok: true, hub, event };
  } catch (error) {
    if (!isRampartError(error)) throw error;
    return refuse(error.code, REASON.payloadFormatInvalid, error.message);
  }
}
