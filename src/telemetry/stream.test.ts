import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import type { EventLog, StoredEvent } from '../stream/event-log.ts';
import { streamPartition } from './stream.ts';

function storedEvent(sequence: number): StoredEvent {
  return { hub: 'h', partition: 0, sequence, offset: sequence * 10, enqueuedAt: '2026-01-01T00:00:00.000Z', duplicate: false, publisher: 'd1', contentType: 'application/json', properties: {}, body: Buffer.from(`{"n":${sequence}}`), messageId: null };
}

/** A log holding `stored`, whose waitFor only ever ends by its signal. */
function idleLog(stored: StoredEvent[]): EventLog {
  return {
    read: (_hub: string, _partition: number, from: { sequence: number }, limit: number) => Promise.resolve(stored.filter((e) => e.sequence >= from.sequence).slice(0, limit)),
    waitFor: (_hub: string, _partition: number, _after: number, signal: AbortSignal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })),
  } as unknown as EventLog;
}

/** A response that records what is written to it, synchronously. */
function recordingResponse() {
  const raw = {
    text: '',
    write(chunk: string) {
      raw.text += chunk;
      return true;
    },
  };
  return raw;
}

/** Heartbeat timers fired by hand. The stream starts one each time it goes idle, so `started(n)` means "idle for the n-th time". */
function manualHeartbeats() {
  const timers: Array<{ ms: number; controller: AbortController }> = [];
  let notify: () => void = () => undefined;
  return {
    timer(ms: number): AbortSignal {
      const controller = new AbortController();
      timers.push({ ms, controller });
      notify();
      return controller.signal;
    },
    started(n: number): Promise<{ ms: number; controller: AbortController }> {
      return new Promise((resolve) => {
        notify = () => {
          const started = timers[n - 1];
          if (started !== undefined) resolve(started);
        };
        notify();
      });
    },
  };
}

test('sends stored events from the start position, then a heartbeat comment each time the idle timer fires, and returns when aborted', async () => {
  const raw = recordingResponse();
  const heartbeats = manualHeartbeats();
  const controller = new AbortController();
  const heartbeatCount = () => [...raw.text.matchAll(/^: heartbeat$/gm)].length;
  const streaming = streamPartition(raw as unknown as ServerResponse, {
    eventLog: idleLog([storedEvent(1), storedEvent(2), storedEvent(3)]),
    hub: 'h',
    partition: 0,
    from: 2,
    heartbeat: { ms: 20, timer: (ms) => heartbeats.timer(ms) },
    signal: controller.signal,
  });

  const first = await heartbeats.started(1);
  assert.equal(first.ms, 20, 'the idle timer runs for the configured heartbeat interval');
  assert.deepEqual([...raw.text.matchAll(/^id: (\d+)$/gm)].map((m) => m[1]), ['2', '3']);
  assert.equal(heartbeatCount(), 0, 'no heartbeat before the timer fires');

  first.controller.abort();
  (await heartbeats.started(2)).controller.abort();
  await heartbeats.started(3);
  assert.equal(heartbeatCount(), 2, 'one heartbeat per timer fired');

  controller.abort();
  await streaming;
  assert.equal(heartbeatCount(), 2, 'ending the stream is not a heartbeat');
  assert.deepEqual([...raw.text.matchAll(/^id: (\d+)$/gm)].map((m) => m[1]), ['2', '3']);
});
