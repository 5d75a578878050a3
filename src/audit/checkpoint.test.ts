import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Keyring } from '../crypto/keyring.ts';
import { ManualClock, systemClock } from '../kernel/clock.ts';
import { createMemoryLogger } from '../kernel/logger.ts';
import { sqliteTarget } from '../../test/support/databases.ts';
import { masterKey } from '../../test/support/keys.ts';
import { AuditCheckpointer } from './checkpoint.ts';
import { appendEvents } from '../../test/support/audit.ts';
import { until } from '../../test/support/wait.ts';

// The background timer; the conditions themselves are in test/contract/audit.test.ts.

/** Polls `condition` until it holds (see test/support/wait.ts). */
const untilTrue = (condition: () => Promise<boolean>) => until(async () => ((await condition()) ? true : undefined), 5_000);

/** Resolves 'settled' if `promise` settles within the microtasks already queued, else 'pending'. */
function settledNow(promise: Promise<unknown>): Promise<'settled' | 'pending'> {
  return Promise.race([promise.then(() => 'settled' as const), new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))]);
}

describe('audit checkpointer', () => {
  test('ticks every half interval, at most every 5 seconds', () => {
    const make = (intervalSeconds: number) =>
      new AuditCheckpointer({ database: {} as never, keyring: {} as never, clock: systemClock, intervalSeconds, everyEntries: 1000, logger: createMemoryLogger().logger });
    assert.equal(make(4).tickMs, 2_000);
    assert.equal(make(300).tickMs, 5_000);
  });

  test('checkpoints in the background once due, and not after stop()', async (t) => {
    // The timer is driven by hand: each tick() fires the intervals that are due, at once.
    t.mock.timers.enable({ apis: ['setInterval'] });
    const opened = await sqliteTarget.open();
    t.after(() => opened.cleanup());
    const { database } = opened;
    const clock = new ManualClock(new Date());
    const keyring = await Keyring.open({ database, masterKey: masterKey(), clock, columns: [] });
    const memory = createMemoryLogger('info');
    const checkpointer = new AuditCheckpointer({ database, keyring, clock, intervalSeconds: 60, everyEntries: 3, logger: memory.logger });
    const count = async () => (await database.db.selectFrom('audit_checkpoints').select('seq').execute()).length;
    await appendEvents(database, { now: () => clock.now() }, 3);
    checkpointer.start();
    checkpointer.start();
    assert.equal(await count(), 0, 'nothing before the timer fires');
    t.mock.timers.tick(checkpointer.tickMs);
    await untilTrue(async () => (await count()) === 1);
    await checkpointer.stop();
    await appendEvents(database, { now: () => clock.now() }, 3, 4);
    // A timer still running (or a second one from the repeated start) would begin a tick here, and stop() waits for a tick in flight.
    t.mock.timers.tick(checkpointer.tickMs * 3);
    await checkpointer.stop();
    assert.equal(await count(), 1, 'no checkpoint after stop()');
    assert.ok(memory.lines().some((l) => l.includes('audit checkpoint written')));
  });

  test('stop() waits for the checkpoint being written', async (t) => {
    const opened = await sqliteTarget.open();
    t.after(() => opened.cleanup());
    const clock = new ManualClock(new Date());
    const keyring = await Keyring.open({ database: opened.database, masterKey: masterKey(), clock, columns: [] });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let signing = false;
    const slow = {
      sign: async (purpose: 'audit', data: Uint8Array) => {
        signing = true;
        await gate;
        return keyring.sign(purpose, data);
      },
    };
    const checkpointer = new AuditCheckpointer({ database: opened.database, keyring: slow, clock, intervalSeconds: 0.02, everyEntries: 1, logger: createMemoryLogger().logger });
    await appendEvents(opened.database, { now: () => clock.now() }, 1);
    checkpointer.start();
    await untilTrue(() => Promise.resolve(signing));
    let stopped = false;
    const stopping = checkpointer.stop().then(() => (stopped = true));
    assert.equal(await settledNow(stopping), 'pending', 'stop() is still waiting');
    assert.equal(stopped, false);
    release();
    await stopping;
    assert.equal((await opened.database.db.selectFrom('audit_checkpoints').select('seq').execute()).length, 1, 'the tick in flight completed');
  });

  test('logs a failed tick and keeps running', async (t) => {
    const opened = await sqliteTarget.open();
    t.after(() => opened.cleanup());
    const memory = createMemoryLogger('info');
    const failing = { sign: () => Promise.reject(new Error('signing key unavailable')) };
    const clock = new ManualClock(new Date());
    const checkpointer = new AuditCheckpointer({ database: opened.database, keyring: failing, clock, intervalSeconds: 0.02, everyEntries: 1, logger: memory.logger });
    await appendEvents(opened.database, { now: () => clock.now() }, 1);
    checkpointer.start();
    await untilTrue(() => Promise.resolve(memory.lines().filter((l) => l.includes('audit checkpoint failed')).length >= 2));
    await checkpointer.stop();
    const logged = JSON.parse(memory.lines().find((l) => l.includes('audit checkpoint failed')) ?? '{}') as { level: number; err?: { message?: string } };
    assert.equal(logged.err?.message, 'signing key unavailable');
    assert.equal((await opened.database.db.selectFrom('audit_checkpoints').select('seq').execute()).length, 0);
  });
});
