// A child process for the event-log durability test: opens the embedded log
// and appends forever from several concurrent writers, printing each event's
// position the moment its append resolves (its acknowledgement):
//   ack <publisher> <messageId> <partition> <sequence> <offset>
// Each writer owns its publishers and numbers their events from 0, so the
// test can check per-publisher order after it SIGKILLs this process.
// Usage: node test/support/event-log-child.ts <path> <hub JSON> <writers>

import { systemClock } from '../../src/kernel/clock.ts';
import { createMemoryLogger } from '../../src/kernel/logger.ts';
import { openEmbeddedEventLog } from '../../src/stream/embedded/index.ts';
import type { HubSpec } from '../../src/stream/event-log.ts';

const [path, hubJson, writersArg] = process.argv.slice(2);
if (path === undefined || hubJson === undefined) throw new Error('usage: event-log-child.ts <path> <hub JSON> [writers]');
const hub = JSON.parse(hubJson) as HubSpec;
const writers = Number(writersArg ?? 6);

const log = await openEmbeddedEventLog({ path, hubs: [hub], clock: systemClock, synchronous: 'full', maxGroupEvents: 5000, logger: createMemoryLogger('warn').logger });
process.stdout.write('ready\n');

async function write(writer: number): Promise<never> {
  const publishers = [0, 1, 2].map((k) => `w${writer}-p${k}`);
  const counters = publishers.map(() => 0);
  for (let round = 0; ; round++) {
    const events = Array.from({ length: 1 + ((round * 7 + writer) % 8) }, (_, i) => {
      const k = (round + i) % publishers.length;
      const publisher = publishers[k] ?? '';
      const n = counters[k] ?? 0;
      counters[k] = n + 1;
      return { publisher, contentType: 'application/json', properties: { n: String(n) }, body: Buffer.from(JSON.stringify({ publisher, n, pad: 'x'.repeat(n % 50) })), messageId: `${publisher}:${n}` };
    });
    const positions = await log.append(hub.name, events);
    process.stdout.write(positions.map((p, i) => `ack ${events[i]?.publisher} ${events[i]?.messageId} ${p.partition} ${p.sequence} ${p.offset}\n`).join(''));
  }
}

await Promise.all(Array.from({ length: writers }, (_, w) => write(w)));
