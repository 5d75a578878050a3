import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Logger } from '../kernel/logger.ts';
import type { EventLog } from '../stream/event-log.ts';
import { presentEvent } from './present.ts';

// One partition as Server-Sent Events: `id` is the sequence number, so a
// browser's EventSource (or any client sending Last-Event-ID) resumes after
// the last event it saw. Between events a comment line every heartbeat keeps
// proxies from timing the connection out. A stream ends when the client goes,
// when the plane drains, or after `maxStreamMs` — the client reconnects and
// is authenticated again, so a revoked token or ended session stops reading.

export interface PartitionStreamOptions {
  readonly eventLog: EventLog;
  readonly hub: string;
  readonly partition: number;
  /** The first sequence to send. */
  readonly from: number;
  readonly heartbeatMs: number;
  /** A signal that aborts after `ms`: the idle wait before a heartbeat. Default AbortSignal.timeout; tests fire it by hand. */
  readonly heartbeatTimer?: (ms: number) => AbortSignal;
  readonly maxStreamMs: number;
  /** Aborted when the stream must end (client gone, plane draining, time up). */
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

const BATCH = 100;
/** How long a client waits before reconnecting, per the SSE `retry` field. */
const RECONNECT_MS = 2000;

async function write(raw: ServerResponse, text: string, signal: AbortSignal): Promise<void> {
  if (raw.write(text)) return;
  // Slow reader: wait for the socket to drain rather than buffer without bound.
  await once(raw, 'drain', { signal });
}

export async function streamPartition(raw: ServerResponse, options: PartitionStreamOptions): Promise<void> {
  const { eventLog, hub, partition, signal } = options;
  const heartbeatTimer = options.heartbeatTimer ?? ((ms: number) => AbortSignal.timeout(ms));
  let next = options.from;
  const ended = () => signal.aborted;
  try {
    await write(raw, `retry: ${RECONNECT_MS}\n\n`, signal);
    while (!ended()) {
      const events = await eventLog.read(hub, partition, { sequence: next }, BATCH);
      if (events.length > 0) {
        for (const event of events) {
          await write(raw, `id: ${event.sequence}\nevent: event\ndata: ${JSON.stringify(presentEvent(event))}\n\n`, signal);
          next = event.sequence + 1;
        }
        continue;
      }
      const tick = AbortSignal.any([signal, heartbeatTimer(options.heartbeatMs)]);
      try {
        await eventLog.waitFor(hub, partition, Math.max(0, next - 1), tick);
      } catch (error) {
        if (!tick.aborted) throw error;
      }
      if (tick.aborted && !ended()) await write(raw, ': heartbeat\n\n', signal);
    }
  } catch (error) {
    if (!ended()) options.logger.warn({ err: error, hub, partition }, 'telemetry stream failed');
  } finally {
    if (!raw.writableEnded) raw.end();
  }
}
