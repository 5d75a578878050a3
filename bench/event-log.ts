// Event-log append throughput and acknowledgement latency: 200-byte events at
// several concurrencies and batch sizes, with synchronous=full and normal.
// Each load runs twice on a fresh file: with group commit (the embedded log as
// configured by default), and as the peer with one transaction per event
// (maxGroupEvents=1, each batch sent as single-event appends), in the same run
// on the same disk. Prints events/s, p50/p99 ack latency and the ratios.
// Run: `node bench/event-log.ts [seconds per load]`.

import { performance } from 'node:perf_hooks';
import { systemClock } from '../src/kernel/clock.ts';
import { createMemoryLogger } from '../src/kernel/logger.ts';
import { openEmbeddedEventLog } from '../src/stream/embedded/index.ts';
import type { EventInput, EventLog } from '../src/stream/event-log.ts';
import { tempDir } from '../test/support/tmp.ts';

const seconds = Number(process.argv[2] ?? 2);
if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600) {
  process.stderr.write('usage: node bench/event-log.ts [seconds per load, up to 600]\n');
  process.exit(2);
}

const HUB = { name: 'telemetry', partitions: 4, retentionHours: 168, retentionMaxBytes: 1_073_741_824, schema: 'none', onInvalid: 'refuse', allowNonJson: true } as const;
const BODY = Buffer.alloc(200, 0x61);

interface Load {
  readonly synchronous: 'full' | 'normal';
  readonly concurrency: number;
  readonly batch: number;
}

interface Measured {
  readonly eventsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function measure(load: Load, groupCommit: boolean): Promise<Measured> {
  const dir = tempDir('rampart-bench-events');
  const log: EventLog = await openEmbeddedEventLog({
    path: `${dir.path}/events.db`,
    hubs: [HUB],
    clock: systemClock,
    synchronous: load.synchronous,
    maxGroupEvents: groupCommit ? 5000 : 1,
    logger: createMemoryLogger('warn').logger,
  });
  const latencies: number[] = [];
  let events = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const client = async (id: number) => {
    for (let round = 0; performance.now() < deadline; round++) {
      const batch: EventInput[] = Array.from({ length: load.batch }, (_, i) => ({
        publisher: `device-${id}-${i % 4}`,
        contentType: 'application/octet-stream',
        properties: {},
        body: BODY,
        messageId: `${id}-${round}-${i}`,
      }));
      const sent = performance.now();
      if (groupCommit) await log.append(HUB.name, batch);
      else await Promise.all(batch.map((event) => log.append(HUB.name, [event])));
      latencies.push(performance.now() - sent);
      events += batch.length;
    }
  };
  await Promise.all(Array.from({ length: load.concurrency }, (_, id) => client(id)));
  const elapsed = (performance.now() - started) / 1000;
  await log.close();
  dir.cleanup();
  latencies.sort((a, b) => a - b);
  return { eventsPerSecond: events / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

const loads: Load[] = [];
for (const synchronous of ['full', 'normal'] as const) {
  for (const batch of [1, 100]) {
    for (const concurrency of [1, 16, 64]) loads.push({ synchronous, concurrency, batch });
  }
}

const fmt = (n: number, digits = 1) => n.toFixed(digits).padStart(9);
console.log(`event log append, 200-byte events, ${seconds}s per load; latency = one append call's acknowledgement, ms`);
console.log('sync    conc batch |  group ev/s    p50    p99 |  peer ev/s    p50    p99 | ev/s ratio  p99 ratio');
for (const load of loads) {
  const group = await measure(load, true);
  const peer = await measure(load, false);
  console.log(
    `${load.synchronous.padEnd(6)} ${String(load.concurrency).padStart(5)} ${String(load.batch).padStart(5)} |` +
      `${fmt(group.eventsPerSecond, 0)}  ${fmt(group.p50, 2)} ${fmt(group.p99, 2)} |` +
      `${fmt(peer.eventsPerSecond, 0)}  ${fmt(peer.p50, 2)} ${fmt(peer.p99, 2)} |` +
      `${fmt(group.eventsPerSecond / peer.eventsPerSecond, 1)}× ${fmt(peer.p99 / group.p99, 1)}×`,
  );
}
