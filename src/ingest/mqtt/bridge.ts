import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { generate, parser, type IConnectPacket, type IPublishPacket, type Packet, type Parser } from 'mqtt-packet';
import { clientCertificateOf, type ClientCertificate } from '../../http/listen.ts';
import { decodePublish, FrameGuard, FrameSplitter, type DevicePublish, type FrameProblem } from './frames.ts';
import { connectFromV5, publishFromV5, REASON, toV5 } from './v5.ts';

// The broker library speaks MQTT 3.1.1 only. Every connection passes through
// this stream: a 3.1.1 client's bytes go through untouched; a 5.0 client's
// packets are translated to 3.1.1 on the way in and back to 5.0 on the way out
// (reason codes, CONNACK properties). MQTT 5 user properties and content type
// are folded into the topic's property bag, where IoT Hub clients put them, so
// one authorization path sees everything a device sent (the translations: v5.ts).

export interface ConnectionOptions {
  /** Largest packet accepted (remaining length), and announced to MQTT 5 clients. */
  readonly maxPacketBytes: number;
}

/**
 * Takes the publishes that arrived together (in order, one device's); resolves
 * once they are durable (then the QoS 1 ones are acknowledged) and rejects
 * when one was refused (the handler has ended the session by then).
 */
export type PublishHandler = (publishes: readonly DevicePublish[]) => Promise<void>;

/** Publishes taken and not yet settled, per connection, before reading pauses. */
const MAX_PUBLISHES_IN_FLIGHT = 256;

const PUBLISH = 3;

export class MqttConnection extends Duplex {
  readonly socket: Socket;
  readonly remoteAddress: string | undefined;
  /** 3 (MQTT 3.1), 4 (3.1.1) or 5, once the CONNECT has been read. */
  protocolVersion: number | undefined;
  /** A CONNACK reason more precise than MQTT 3.1.1 can say, for MQTT 5 clients. */
  connackReason: number | undefined;
  /** A client certificate that chained to the device CA (TLS listeners with one configured). */
  readonly clientCertificate: ClientCertificate | undefined;

  readonly #options: ConnectionOptions;
  readonly #guard: FrameGuard;
  #mode: 'detecting' | 'passthrough' | 'v5' = 'detecting';
  #inbound: Parser = parser();
  #outbound: Parser | undefined;
  #held: Buffer[] = [];
  #corked = false;
  /**
   * Set by the listener once the device's session is ready. From then on its
   * PUBLISH packets are admitted, appended and acknowledged here, in order,
   * without the broker library's per-packet pipeline (its largest cost on the
   * ingest path); every other packet still goes to the broker.
   */
  publishHandler: PublishHandler | undefined;
  /** Splits the stream into packets once the protocol is known (3.1.1); the guard watches until then. */
  readonly #splitter: FrameSplitter;
  #inFlight = 0;
  /** MQTT 5 publishes parsed from the current read, not yet handed to the listener. */
  #v5Publishes: DevicePublish[] = [];
  readonly #unsubscribeCounts = new Map<number, number>();
  #ended = false;

  constructor(socket: Socket, options: ConnectionOptions) {
    super({ allowHalfOpen: false });
    this.socket = socket;
    this.remoteAddress = socket.remoteAddress;
    this.clientCertificate = clientCertificateOf(socket);
    this.#options = options;
    this.#guard = new FrameGuard(options.maxPacketBytes);
    this.#splitter = new FrameSplitter(options.maxPacketBytes);
    this.#inbound.on('packet', (packet) => this.#onInbound(packet));
    this.#inbound.on('error', () => this.destroy());
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.push(null));
    socket.on('close', () => this.destroy());
    socket.on('error', (error) => this.destroy(error));
  }

  /**
   * Writes to the socket, coalescing everything written in one turn of the
   * event loop into one system call: the broker writes each packet in pieces,
   * and a group commit releases many PUBACKs at once.
   */
  #send(bytes: Buffer): boolean {
    if (!this.#corked) {
      this.#corked = true;
      this.socket.cork();
      setImmediate(() => {
        this.#corked = false;
        this.socket.uncork();
      });
    }
    return this.socket.write(bytes);
  }

  /** Sends what is held back now (before a DISCONNECT is followed by closing the socket). */
  #flush(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.socket.uncork();
  }

  /** Ends an MQTT 5 session with a reason code (MQTT 3.1.1 has no server DISCONNECT: the caller just closes). */
  sendDisconnect(reasonCode: number): void {
    if (this.#mode !== 'v5' || this.#ended || this.socket.destroyed) return;
    this.#ended = true;
    this.#send(generate({ cmd: 'disconnect', reasonCode }, { protocolVersion: 5 }));
    this.#flush();
  }

  override _read(): void {
    if (this.#inFlight < MAX_PUBLISHES_IN_FLIGHT) this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#ended || this.socket.destroyed) {
      callback();
      return;
    }
    if (this.#mode === 'v5') {
      // The broker writes a packet in pieces; reassemble, translate, send whole.
      this.#outbound ??= this.#createOutboundParser();
      this.#outbound.parse(chunk);
      if (this.socket.writableNeedDrain) this.socket.once('drain', () => callback());
      else callback();
      return;
    }
    if (this.#send(chunk)) callback();
    else this.socket.once('drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.removeAllListeners('data');
    this.#flush();
    if (error !== null || this.socket.destroyed) {
      this.socket.destroy();
    } else {
      // Let what was written (a refusing CONNACK, a DISCONNECT) reach the client, then cut.
      this.socket.pause();
      this.socket.end();
      const timer = setTimeout(() => this.socket.destroy(), 1000);
      timer.unref();
      this.socket.once('close', () => clearTimeout(timer));
    }
    callback(error);
  }

  #onData(chunk: Buffer): void {
    if (this.#mode === 'passthrough') {
      this.#passthrough(chunk);
      return;
    }
    const problem = this.#guard.scan(chunk);
    if (problem !== undefined) {
      this.#refuseFrame(problem);
      return;
    }
    if (this.#mode === 'detecting') this.#held.push(chunk);
    // MQTT 5: the publishes of one read go to the listener together, as in #passthrough.
    this.#v5Publishes = [];
    this.#inbound.parse(chunk);
    this.#takeV5Publishes();
  }

  /** Hands over the pending MQTT 5 publishes; false when that ended the connection (one was refused). */
  #takeV5Publishes(): boolean {
    const publishes = this.#v5Publishes;
    this.#v5Publishes = [];
    if (publishes.length > 0) this.#takePublishes(publishes);
    return !this.destroyed;
  }

  #refuseFrame(problem: FrameProblem): void {
    this.sendDisconnect(problem === 'too_large' ? REASON.packetTooLarge : REASON.malformedPacket);
    this.emit('refused', problem);
    this.destroy();
  }

  #forward(data: Buffer): void {
    if (!this.push(data)) this.socket.pause();
  }

  /**
   * MQTT 3.1.1 bytes: whole packets to the broker, except a ready device's
   * PUBLISH packets, which are taken here — those that arrived together as one
   * batch (a client with a window of publishes sends them in one write), in
   * their order relative to the packets the broker gets.
   */
  #passthrough(chunk: Buffer): void {
    const { frames, problem } = this.#splitter.push(chunk);
    let run: Buffer[] = [];
    let batch: DevicePublish[] = [];
    for (const frame of frames) {
      if (this.publishHandler === undefined || (frame[0] ?? 0) >> 4 !== PUBLISH) {
        if (batch.length > 0) {
          this.#takePublishes(batch);
          batch = [];
          if (this.destroyed) return;
        }
        run.push(frame);
        continue;
      }
      if (run.length > 0) this.#forward(run.length === 1 ? (run[0] as Buffer) : Buffer.concat(run));
      run = [];
      const publish = decodePublish(frame);
      if (publish === undefined) {
        this.#refuseFrame('malformed');
        return;
      }
      batch.push(publish);
    }
    if (batch.length > 0) this.#takePublishes(batch);
    if (this.destroyed) return;
    if (run.length > 0) this.#forward(run.length === 1 ? (run[0] as Buffer) : Buffer.concat(run));
    if (problem !== undefined) this.#refuseFrame(problem);
  }

  /** Hands publishes to the listener; acknowledges the QoS 1 ones, in one write, once they are durable. */
  #takePublishes(publishes: readonly DevicePublish[]): void {
    const handler = this.publishHandler;
    if (handler === undefined || this.destroyed) return;
    const count = publishes.length;
    this.#inFlight += count;
    if (this.#inFlight >= MAX_PUBLISHES_IN_FLIGHT) this.socket.pause();
    handler(publishes).then(
      () => {
        this.#settled(count);
        if (this.#ended || this.socket.destroyed) return;
        if (this.#mode === 'v5') {
          for (const { qos, messageId } of publishes) if (qos === 1 && messageId !== undefined) this.#send(generate({ cmd: 'puback', messageId, reasonCode: 0 }, { protocolVersion: 5 }));
          return;
        }
        const ids = publishes.flatMap(({ qos, messageId }) => (qos === 1 && messageId !== undefined ? [messageId] : []));
        if (ids.length === 0) return;
        const pubacks = Buffer.allocUnsafe(4 * ids.length);
        ids.forEach((messageId, i) => pubacks.writeUInt32BE((0x4002 << 16) | messageId, 4 * i));
        this.#send(pubacks);
      },
      () => this.#settled(count),
    );
  }

  #settled(count: number): void {
    const before = this.#inFlight;
    this.#inFlight -= count;
    if (before >= MAX_PUBLISHES_IN_FLIGHT && this.#inFlight < MAX_PUBLISHES_IN_FLIGHT && !this.destroyed) this.socket.resume();
  }

  #onInbound(packet: Packet): void {
    if (this.#mode === 'passthrough' || this.destroyed) return;
    if (this.#mode === 'detecting') {
      if (packet.cmd !== 'connect') {
        this.destroy();
        return;
      }
      this.protocolVersion = packet.protocolVersion ?? 4;
      if (this.protocolVersion !== 5) {
        // Hand the broker the bytes exactly as they came, and stop parsing here.
        this.#mode = 'passthrough';
        this.#inbound.removeAllListeners('packet');
        const held = Buffer.concat(this.#held);
        this.#held = [];
        // From the start of the stream: the splitter finds the same packet boundaries the guard saw.
        this.#passthrough(held);
        return;
      }
      this.#mode = 'v5';
      this.#held = [];
    }
    const translated = this.#fromV5(packet);
    if (translated === undefined) return;
    if (translated.cmd === 'publish' && this.publishHandler !== undefined) {
      const payload = typeof translated.payload === 'string' ? Buffer.from(translated.payload) : translated.payload;
      this.#v5Publishes.push({ topic: translated.topic, payload, qos: translated.qos, retain: translated.retain, messageId: translated.messageId });
      return;
    }
    // Publishes before this packet reach the listener before it reaches the broker.
    if (!this.#takeV5Publishes()) return;
    try {
      this.#forward(generate(translated));
    } catch {
      this.sendDisconnect(REASON.malformedPacket);
      this.destroy();
    }
  }

  /** An MQTT 5 packet as the 3.1.1 packet the broker understands; undefined when handled here. */
  #fromV5(packet: Packet): Packet | undefined {
    switch (packet.cmd) {
      case 'connect':
        return this.#connectFromV5(packet);
      case 'publish':
        return this.#publishFromV5(packet);
      case 'subscribe':
        return { cmd: 'subscribe', messageId: packet.messageId ?? 0, subscriptions: packet.subscriptions.map(({ topic, qos }) => ({ topic, qos })) };
      case 'unsubscribe':
        this.#unsubscribeCounts.set(packet.messageId ?? 0, packet.unsubscriptions.length);
        return { cmd: 'unsubscribe', messageId: packet.messageId ?? 0, unsubscriptions: packet.unsubscriptions };
      case 'puback':
      case 'pubrec':
      case 'pubrel':
      case 'pubcomp':
        return { cmd: packet.cmd, messageId: packet.messageId ?? 0 };
      case 'pingreq':
        return { cmd: 'pingreq' };
      case 'disconnect':
        return { cmd: 'disconnect' };
      case 'auth':
      case 'connack':
      case 'suback':
      case 'unsuback':
      case 'pingresp':
        // Enhanced authentication is not offered; the rest are server-to-client packets.
        this.sendDisconnect(REASON.protocolError);
        this.destroy();
        return undefined;
    }
  }

  #connectFromV5(packet: IConnectPacket): Packet | undefined {
    if (packet.properties?.authenticationMethod !== undefined) {
      this.#send(generate({ cmd: 'connack', sessionPresent: false, reasonCode: REASON.badAuthenticationMethod }, { protocolVersion: 5 }));
      this.#ended = true;
      this.destroy();
      return undefined;
    }
    return connectFromV5(packet);
  }

  #publishFromV5(packet: IPublishPacket): Packet | undefined {
    if (packet.properties?.topicAlias !== undefined) {
      // CONNACK announced no topic aliases (Topic Alias Maximum absent = 0).
      this.sendDisconnect(REASON.topicAliasInvalid);
      this.destroy();
      return undefined;
    }
    return publishFromV5(packet);
  }

  #createOutboundParser(): Parser {
    const outbound = parser({ protocolVersion: 4 });
    outbound.on('packet', (packet) => {
      const translated = this.#toV5(packet);
      if (translated !== undefined && !this.socket.destroyed) this.#send(generate(translated, { protocolVersion: 5 }));
    });
    outbound.on('error', () => this.destroy());
    return outbound;
  }

  /** A 3.1.1 packet from the broker as the MQTT 5 packet the client expects. */
  #toV5(packet: Packet): Packet | undefined {
    const translated = toV5(packet, {
      connackReason: this.connackReason,
      maxPacketBytes: this.#options.maxPacketBytes,
      unsubscribeCount: (id) => {
        const count = this.#unsubscribeCounts.get(id) ?? 1;
        this.#unsubscribeCounts.delete(id);
        return count;
      },
    });
    // A refusing CONNACK ends the session: nothing more is written after it.
    if (translated?.cmd === 'connack' && translated.reasonCode !== 0) this.#ended = true;
    return translated;
  }
}
