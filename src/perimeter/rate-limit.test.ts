import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../kernel/clock.ts';
import { SourceRateLimit } from './rate-limit.ts';

describe('source rate limit', () => {
  test('allows its quota per window, then says how long to wait', () => {
    const clock = new ManualClock('2026-05-01T10:00:00.000Z');
    const limit = new SourceRateLimit({ clock, limit: { requests: 3, windowSeconds: 60 }, maxSources: 2 });
    assert.deepEqual([limit.take('a'), limit.take('a'), limit.take('a')], [0, 0, 0]);
    assert.equal(limit.take('a'), 60);
    assert.equal(limit.take('b'), 0, 'another source has its own quota');
    clock.advance(45_000);
    assert.equal(limit.take('a'), 15);
    clock.advance(15_000);
    assert.equal(limit.take('a'), 0, 'a new window');
    limit.take('c');
    assert.equal(limit.size, 2, 'bounded: the stalest source is forgotten');
  });

  test('a smaller configured limit refuses sooner, and its own window length decides when the quota returns', () => {
    const clock = new ManualClock('2026-05-01T10:00:00.000Z');
    const roomy = new SourceRateLimit({ clock, limit: { requests: 3, windowSeconds: 60 } });
    const tight = new SourceRateLimit({ clock, limit: { requests: 1, windowSeconds: 5 } });
    assert.deepEqual([tight.take('a'), tight.take('a')], [0, 5]);
    assert.deepEqual([roomy.take('a'), roomy.take('a')], [0, 0], 'the roomier limit still admits the second');
    clock.advance(4_999);
    assert.equal(tight.take('a'), 1);
    clock.advance(1);
    assert.equal(tight.take('a'), 0, 'five seconds on, a new window');
    assert.equal(roomy.take('a'), 0);
    assert.equal(roomy.take('a'), 55, 'the 60-second window has not ended');
  });
});
