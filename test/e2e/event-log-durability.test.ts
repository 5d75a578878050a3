import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../src/kernel/clock.ts';
import { createMemoryLogger } from '../../src/kernel/logger.ts';
import { openEmbeddedEventLog } from '../../src/stream/embedded/index.ts';
import type { EventLog, HubSpec, StoredEvent } from '../../src/stream/event-log.ts';
import { childEnv } from '../support/cli.ts';
import { tempDir } from '../support/tmp.ts';

// An acknowledged event survives the process being killed mid-stream. SIGKILL
// leaves the kernel's page cache intact, so this proves process-crash
// durability and the acknowledge-after-commit ordering; power loss is covered
// by synchronous=FULL (docs/OPERATIONS.md), which a test cannot pull the plug on.

const CHILD = fileURLToPath(new URL('../support/event-log-child.ts', import.meta.url));
const HUB: HubSpec = { name: 'telemetry', partitions: 4, retentionHours: 24, retentionMaxBytes: 1_073_741_824, schema: 'none', onInvalid: 'refuse', allowNonJson: false };

interface Ack {
  readonly publisher: string;
  readonly messageId: string;
  readonly partition: number;
  readonly sequence: number;
  readonly offset: number;
}

/** Runs the child until it has acknowledged `target` events (or `ms` pass), then SIGKILLs it. */
async function appendUntilKilled(path: string, target: number, ms: number): Promise<Ack[]> {
  const child = spawn(process.execPath, [CHILD, path, JSON.stringify(HUB), '6'], { env: childEnv() });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, ms);
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      // Counting newlines, not parsing: the kill must land while writers are mid-append.
      if (stdout.length > target * 20 && stdout.split('\n').length > target) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        resolve();
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`event-log child exited before it was killed:\n${stderr}`));
    });
  });
  assert.equal(await exited, 'SIGKILL', stderr);
  // Only complete lines are acknowledgements; a torn last line is dropped.
  const lines = stdout.slice(0, stdout.lastIndexOf('\n') + 1).split('\n');
  return lines
    .filter((line) => line.startsWith('ack '))
    .map((line) => {
      const [, publisher = '', messageId = '', partition, sequence, offset] = line.split(' ');
      return { publisher, messageId, partition: Number(partition), sequence: Number(sequence), offset: Number(offset) };
    });
}

async function readPartition(log: EventLog, partition: number): Promise<StoredEvent[]> {
  const all: StoredEvent[] = [];
  for (;;) {
    const page = await log.read(HUB.name, partition, { sequence: (all.at(-1)?.sequence ?? 0) + 1 }, 1000);
    all.push(...page);
    if (page.length < 1000) return all;
  }
}

test('every acknowledged event survives SIGKILL of the writing process, in place and in order', async () => {
  const dir = tempDir('rampart-durability');
  try {
    const path = `${dir.path}/events.db`;
    const acks = await appendUntilKilled(path, 4000, 20_000);
    assert.ok(acks.length >= 100, `the child acknowledged only ${acks.length} events`);

    const log = await openEmbeddedEventLog({ path, hubs: [HUB], clock: systemClock, synchronous: 'full', maxGroupEvents: 5000, logger: createMemoryLogger('warn').logger });
    try {
      const stored = new Map<string, StoredEvent>();
      const byPublisher = new Map<string, StoredEvent[]>();
      for (let partition = 0; partition < HUB.partitions; partition++) {
        for (const event of await readPartition(log, partition)) {
          stored.set(`${partition}/${event.sequence}`, event);
          byPublisher.set(event.publisher, [...(byPublisher.get(event.publisher) ?? []), event]);
        }
      }
      for (const ack of acks) {
        const event = stored.get(`${ack.partition}/${ack.sequence}`);
        assert.ok(event !== undefined, `acknowledged ${ack.messageId} at ${ack.partition}/${ack.sequence} is missing`);
        assert.deepEqual({ publisher: event.publisher, messageId: event.messageId, offset: event.offset }, { publisher: ack.publisher, messageId: ack.messageId, offset: ack.offset });
      }
      // Per publisher: numbered 0, 1, 2 … in sequence order with no gap (committed-but-unacknowledged events may follow).
      for (const [publisher, events] of byPublisher) {
        assert.deepEqual(events.map((e) => Number(e.properties['n'])), events.map((_, i) => i), `${publisher} lost or reordered events`);
      }

      const retried = [acks[0], acks[Math.floor(acks.length / 2)], acks.at(-1)].filter((a): a is Ack => a !== undefined);
      for (const ack of retried) {
        const [position] = await log.append(HUB.name, [{ publisher: ack.publisher, contentType: 'application/json', properties: {}, body: Buffer.from('{}'), messageId: ack.messageId }]);
        assert.deepEqual({ ...position, enqueuedAt: undefined }, { partition: ack.partition, sequence: ack.sequence, offset: ack.offset, duplicate: true, enqueuedAt: undefined });
      }
    } finally {
      await log.close();
    }
  } finally {
    dir.cleanup();
  }
});
