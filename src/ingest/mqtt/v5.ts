import type { IConnectPacket, IPublishPacket, Packet } from 'mqtt-packet';
import { encodePropertyBag } from './topics.ts';

// MQTT 5 packets as the 3.1.1 packets the broker library understands, and
// back. The connection (bridge.ts) decides what a packet refuses; these only
// translate.

/** MQTT 5 reason codes the listener uses (MQTT 5.0 §2.4). */
export const REASON = {
  unspecified: 0x80,
  malformedPacket: 0x81,
  protocolError: 0x82,
  clientIdentifierNotValid: 0x85,
  badUserNameOrPassword: 0x86,
  notAuthorized: 0x87,
  serverUnavailable: 0x88,
  badAuthenticationMethod: 0x8c,
  sessionTakenOver: 0x8e,
  topicNameInvalid: 0x90,
  packetTooLarge: 0x95,
  payloadFormatInvalid: 0x99,
  retainNotSupported: 0x9a,
  qosNotSupported: 0x9b,
  topicAliasInvalid: 0x94,
  connectionRateExceeded: 0x9f,
} as const;

/** MQTT 3.1.1 CONNACK return codes as MQTT 5 reason codes. */
const CONNACK_V5: Readonly<Record<number, number>> = {
  1: 0x84,
  2: REASON.clientIdentifierNotValid,
  3: REASON.serverUnavailable,
  4: REASON.badUserNameOrPassword,
  5: REASON.notAuthorized,
};

/** A v5 CONNECT as 3.1.1 (the caller has refused enhanced authentication). */
export function connectFromV5(packet: IConnectPacket): IConnectPacket {
  const connect: IConnectPacket = { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: packet.clientId, clean: packet.clean ?? true, keepalive: packet.keepalive ?? 0 };
  if (packet.username !== undefined) connect.username = packet.username;
  if (packet.password !== undefined) connect.password = packet.password;
  // Wills are not offered (see index.ts), so none is carried over.
  return connect;
}

/**
 * A v5 PUBLISH as 3.1.1, its user properties and content type folded into the
 * topic's property bag (the caller has refused topic aliases).
 */
export function publishFromV5(packet: IPublishPacket): IPublishPacket {
  const properties = packet.properties;
  const folded: Record<string, string> = {};
  for (const [name, value] of Object.entries(properties?.userProperties ?? {})) {
    folded[name] = Array.isArray(value) ? value.join(',') : value;
  }
  if (properties?.contentType !== undefined) folded['$.ct'] = properties.contentType;
  let topic = packet.topic;
  const bag = encodePropertyBag(folded);
  if (bag !== '') topic = topic.endsWith('/') ? `${topic}${bag}` : `${topic}&${bag}`;
  const publish: IPublishPacket = { cmd: 'publish', topic, payload: packet.payload, qos: packet.qos, retain: packet.retain, dup: packet.dup };
  if (packet.messageId !== undefined) publish.messageId = packet.messageId;
  return publish;
}

export interface ToV5Context {
  /** A CONNACK reason more precise than the 3.1.1 return code, when the listener set one. */
  readonly connackReason: number | undefined;
  readonly maxPacketBytes: number;
  /** How many filters the UNSUBSCRIBE with this id carried (one reason code each). */
  unsubscribeCount(messageId: number): number;
}

/** A 3.1.1 packet from the broker as the MQTT 5 packet the client expects; undefined for client-to-server packets. */
export function toV5(packet: Packet, context: ToV5Context): Packet | undefined {
  switch (packet.cmd) {
    case 'connack': {
      const code = packet.returnCode ?? 0;
      if (code !== 0) return { cmd: 'connack', sessionPresent: false, reasonCode: context.connackReason ?? CONNACK_V5[code] ?? REASON.unspecified };
      return {
        cmd: 'connack',
        sessionPresent: packet.sessionPresent,
        reasonCode: 0,
        properties: {
          maximumQoS: 1,
          retainAvailable: false,
          maximumPacketSize: context.maxPacketBytes,
          wildcardSubscriptionAvailable: true,
          subscriptionIdentifiersAvailable: false,
          sharedSubscriptionAvailable: false,
        },
      };
    }
    case 'suback':
      return { cmd: 'suback', messageId: packet.messageId ?? 0, granted: packet.granted.map((g) => (g === 128 ? REASON.notAuthorized : g)) };
    case 'unsuback': {
      const id = packet.messageId ?? 0;
      return { cmd: 'unsuback', messageId: id, granted: new Array<number>(context.unsubscribeCount(id)).fill(0) };
    }
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      return { cmd: packet.cmd, messageId: packet.messageId ?? 0, reasonCode: 0 };
    case 'publish': {
      const publish: IPublishPacket = { cmd: 'publish', topic: packet.topic, payload: packet.payload, qos: packet.qos, retain: false, dup: packet.dup };
      if (packet.messageId !== undefined) publish.messageId = packet.messageId;
      return publish;
    }
    case 'pingresp':
      return packet;
    case 'connect':
    case 'subscribe':
    case 'unsubscribe':
    case 'pingreq':
    case 'disconnect':
    case 'auth':
      return undefined;
  }
}
