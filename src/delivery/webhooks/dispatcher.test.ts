import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findConfigProblems } from '../../config/checks.ts';
import { testConfig } from '../../../test/support/config.ts';
import { backoffDelayMs } from './dispatcher.ts';

// The retry schedule and the configuration rules of webhooks.

const settings = { baseBackoffSeconds: 30, maxBackoffSeconds: 3600 };

describe('webhook retry schedule', () => {
  test('doubles from the base up to the cap; the upper half of each wait is random', () => {
    const lowest = (attempt: number) => backoffDelayMs(attempt, settings, () => 0);
    const highest = (attempt: number) => backoffDelayMs(attempt, settings, (max) => max - 1);
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map(highest), [30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000]);
    assert.deepEqual([1, 2, 3].map(lowest), [15_000, 30_000, 60_000]);
    assert.equal(highest(1_000), 3_600_000, 'no overflow on absurd attempt counts');
  });

  test('the CSPRNG jitter spreads waits across the upper half', () => {
    const waits = Array.from({ length: 200 }, () => backoffDelayMs(3, settings));
    assert.ok(waits.every((w) => w >= 60_000 && w <= 120_000));
    assert.ok(new Set(waits).size > 150, 'not one fixed value');
  });
});

describe('webhook configuration checks', () => {
  test('allow-list entries must be CIDR ranges, and a /0 range is refused as insecure', () => {
    const problems = findConfigProblems(testConfig('/tmp/unused', { webhooks: { allowPrivateCidrs: ['10.0.0.0/8', 'not-a-range', '0.0.0.0/0', '::/0'] } }));
    assert.deepEqual(problems.invalid.filter((p) => p.startsWith('webhooks.')), ['webhooks.allowPrivateCidrs: "not-a-range" is not a CIDR range or IP address']);
    assert.equal(problems.insecure.filter((p) => p.startsWith('webhooks.allowPrivateCidrs: 0.0.0.0/0') || p.startsWith('webhooks.allowPrivateCidrs: ::/0')).length, 2);
    assert.deepEqual(findConfigProblems(testConfig('/tmp/unused')).insecure.filter((p) => p.startsWith('webhooks.')), [], 'the default (empty) allow-list is fine');
  });
});
