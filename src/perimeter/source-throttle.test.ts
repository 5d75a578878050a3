import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../kernel/clock.ts';
import { SourceThrottle } from './source-throttle.ts';

test('blocks a source after the configured failures, for the configured time, then starts afresh', () => {
  const clock = new ManualClock();
  const throttle = new SourceThrottle({ clock, failuresPerSource: 3, throttleSeconds: 60 });
  assert.equal(throttle.recordFailure('10.0.0.1'), false);
  assert.equal(throttle.recordFailure('10.0.0.1'), false);
  assert.equal(throttle.retryAfter('10.0.0.1'), 0);
  assert.equal(throttle.recordFailure('10.0.0.1'), true);
  assert.equal(throttle.retryAfter('10.0.0.1'), 60);
  assert.equal(throttle.retryAfter('10.0.0.2'), 0, 'other sources are not affected');
  clock.advance(59_500);
  assert.equal(throttle.retryAfter('10.0.0.1'), 1);
  clock.advance(500);
  assert.equal(throttle.retryAfter('10.0.0.1'), 0);
  assert.equal(throttle.recordFailure('10.0.0.1'), false, 'the count starts again after a block');
});

test('a quiet period as long as the block forgives earlier failures', () => {
  const clock = new ManualClock();
  const throttle = new SourceThrottle({ clock, failuresPerSource: 2, throttleSeconds: 30 });
  throttle.recordFailure('10.0.0.1');
  clock.advance(30_000);
  assert.equal(throttle.recordFailure('10.0.0.1'), false);
  assert.equal(throttle.recordFailure('10.0.0.1'), true);
});

test('tracks a bounded number of sources, forgetting the stalest', () => {
  const throttle = new SourceThrottle({ clock: new ManualClock(), failuresPerSource: 5, throttleSeconds: 30, maxSources: 100 });
  for (let n = 0; n < 1000; n += 1) throttle.recordFailure(`10.0.${n >> 8}.${n & 255}`);
  assert.equal(throttle.size, 100);
});
