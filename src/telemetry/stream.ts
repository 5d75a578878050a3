import type { ServerResponse } from 'node:http';
import { idleWait, writeEvent, type Heartbeat } from '../http/event-stream.ts';
import type { EventLog } from '../stream/event-log.ts';
import { presentEvent } from './present.ts';

// One partition as Server-Sent Events: `id` is the sequence number, so a
// browser's EventSource (or any client sending Last-Event-ID) resumes after
// the last event it saw. Between events a comment line every heartbeat keeps
// proxies from timing the connection out. When and how a stream ends is
// http/event-stream.ts's.

export interface PartitionStreamOptions {
  readonly eventLog: EventLog;
  readonly hub: string;
  readonly partition: number;
  /** The first sequence to send. */
  readonly from: number;
  readonly heartbeat: Heartbeat;
  /** Aborted when the stream must end (client gone, plane draining, time up, caller signed out). */
  readonly signal: AbortSignal;
}

const BATCH = 100;

export async function streamPartition(raw: ServerResponse, options: PartitionStreamOptions): Promise<void> {
  const { eventLog, hub, partition, signal } = options;
  let next = options.from;
  while (!signal.aborted) {
    const events = await eventLog.read(hub, partition, { sequence: next }, BATCH);
    if (events.length > 0) {
      for (const event of events) {
        await writeEvent(raw, `id: ${event.sequence}\nevent: event\ndata: ${JSON.stringify(presentEvent(event))}\n\n`, signal);
        next = event.sequence + 1;
      }
      continue;
    }
    await idleWait(raw, signal, options.heartbeat, (tick) => eventLog.waitFor(hub, partition, Math.max(0, next - 1), tick));
  }
}
