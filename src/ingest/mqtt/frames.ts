import { isUtf8 } from 'node:buffer';

// Watches the raw MQTT byte stream for packet boundaries, so an oversized or
// malformed packet is refused from its fixed header — before a parser buffers
// its body. Works on any protocol version: the fixed header is the same.

export type FrameProblem = 'too_large' | 'malformed';

export class FrameGuard {
  readonly #maxRemainingLength: number;
  #state: 'header' | 'length' | 'body' = 'header';
  #length = 0;
  #multiplier = 1;
  #lengthBytes = 0;
  #remaining = 0;

  constructor(maxRemainingLength: number) {
    this.#maxRemainingLength = maxRemainingLength;
  }

  /** Scans the next bytes of the stream; a problem means the connection must end. */
  scan(chunk: Buffer): FrameProblem | undefined {
    let i = 0;
    while (i < chunk.length) {
      switch (this.#state) {
        case 'header':
          i += 1;
          this.#state = 'length';
          this.#length = 0;
          this.#multiplier = 1;
          this.#lengthBytes = 0;
          break;
        case 'length': {
          const byte = chunk.readUInt8(i);
          i += 1;
          this.#length += (byte & 0x7f) * this.#multiplier;
          this.#multiplier *= 128;
          this.#lengthBytes += 1;
          if ((byte & 0x80) !== 0) {
            // The variable-byte integer has at most four bytes.
            if (this.#lengthBytes === 4) return 'malformed';
            break;
          }
          if (this.#length > this.#maxRemainingLength) return 'too_large';
          this.#remaining = this.#length;
          this.#state = this.#remaining === 0 ? 'header' : 'body';
          break;
        }
        case 'body': {
          const take = Math.min(this.#remaining, chunk.length - i);
          i += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#state = 'header';
          break;
        }
      }
    }
    return undefined;
  }
}

/**
 * Cuts the byte stream into whole MQTT packets (fixed header included), with
 * the same limits as FrameGuard: a packet's size is checked from its fixed
 * header, before its body is held. At most one incomplete packet is held.
 */
export class FrameSplitter {
  readonly #maxRemainingLength: number;
  #partial: Buffer | undefined;

  constructor(maxRemainingLength: number) {
    this.#maxRemainingLength = maxRemainingLength;
  }

  push(chunk: Buffer): { frames: Buffer[]; problem?: FrameProblem } {
    const data = this.#partial === undefined ? chunk : Buffer.concat([this.#partial, chunk]);
    this.#partial = undefined;
    const frames: Buffer[] = [];
    let start = 0;
    while (start < data.length) {
      let length = 0;
      let multiplier = 1;
      let i = start + 1;
      let complete = false;
      for (let bytes = 0; i < data.length; bytes++) {
        if (bytes === 4) return { frames, problem: 'malformed' };
        const byte = data[i++] ?? 0;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete) break;
      if (length > this.#maxRemainingLength) return { frames, problem: 'too_large' };
      if (i + length > data.length) break;
      frames.push(data.subarray(start, i + length));
      start = i + length;
    }
    if (start < data.length) this.#partial = data.subarray(start);
    return { frames };
  }
}

/** A PUBLISH from an authenticated device, taken by the listener instead of the broker library. */
export interface DevicePublish {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: number;
  readonly retain: boolean;
  readonly messageId: number | undefined;
}

/**
 * Reads one whole MQTT 3.1 / 3.1.1 PUBLISH packet (fixed header included, as
 * FrameSplitter cuts them); undefined when it is malformed: QoS 3, DUP set on
 * QoS 0, a topic that overruns the packet, is not UTF-8, holds U+0000 or is
 * empty, or a QoS 1/2 packet without a non-zero packet identifier. The payload
 * is a view of the frame, not a copy.
 */
export function decodePublish(frame: Buffer): DevicePublish | undefined {
  const flags = (frame[0] ?? 0) & 0x0f;
  const qos = (flags >> 1) & 0x03;
  if (qos === 3 || (qos === 0 && (flags & 0x08) !== 0)) return undefined;
  let at = 1;
  while (at < frame.length && ((frame[at++] ?? 0) & 0x80) !== 0);
  if (at + 2 > frame.length) return undefined;
  const topicLength = frame.readUInt16BE(at);
  const topicStart = at + 2;
  const topicEnd = topicStart + topicLength;
  if (topicLength === 0 || topicEnd > frame.length) return undefined;
  const topicBytes = frame.subarray(topicStart, topicEnd);
  if (!isUtf8(topicBytes) || topicBytes.includes(0)) return undefined;
  let payloadStart = topicEnd;
  let messageId: number | undefined;
  if (qos > 0) {
    if (topicEnd + 2 > frame.length) return undefined;
    messageId = frame.readUInt16BE(topicEnd);
    if (messageId === 0) return undefined;
    payloadStart += 2;
  }
  return { topic: topicBytes.toString('utf8'), payload: frame.subarray(payloadStart), qos, retain: (flags & 0x01) !== 0, messageId };
}
