import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { createMemoryLogger } from '../kernel/logger.ts';
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

test('sends stored events from the start position, then heartbeat comments while idle, and ends when aborted', async () => {
  const raw = new PassThrough();
  let text = '';
  raw.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const controller = new AbortController();
  const streaming = streamPartition(raw as unknown as ServerResponse, { eventLog: idleLog([storedEvent(1), storedEvent(2), storedEvent(3)]), hub: 'h', partition: 0, from: 2, heartbeatMs: 20, maxStreamMs: 60_000, signal: controller.signal, logger: createMemoryLogger().logger });
  await new Promise((r) => setTimeout(r, 70));
  controller.abort();
  await streaming;
  assert.ok(raw.writableEnded, 'the response was ended');
  assert.match(text, /^retry: \d+\n\n/);
  assert.deepEqual([...text.matchAll(/^id: (\d+)$/gm)].map((m) => m[1]), ['2', '3']);
  assert.ok([...text.matchAll(/^: heartbeat$/gm)].length >= 2, text);
});
