import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { IsDateTime } from 'typebox/format';
import { isRfc3339DateTime } from './rfc3339.ts';

describe('RFC 3339 date-times', () => {
  test('accepts zoned date-times and refuses impossible or zoneless ones', () => {
    for (const ok of ['2026-06-01T10:00:00Z', '2026-06-01t10:00:00.123456789z', '2024-02-29T00:00:00+01:00', '1990-12-31T23:59:60Z', '1990-12-31T15:59:60-08:00', '2026-01-01T00:00:00-23:59']) {
      assert.equal(isRfc3339DateTime(ok), true, ok);
    }
    for (const bad of ['2026-06-01T10:00:00', '2026-06-01 10:00:00Z', '2023-02-29T00:00:00Z', '2026-04-31T00:00:00Z', '2026-13-01T00:00:00Z', '2026-00-10T00:00:00Z', '2026-06-00T00:00:00Z', '2026-06-01T24:00:00Z', '2026-06-01T10:60:00Z', '2026-06-01T10:00:61Z', '2026-06-01T10:00:60Z', '2026-06-01T10:00:00+24:00', '2026-06-01T10:00:00+01:60', '2026-06-01T10:00:00.Z', '2026-06-01T10:00:00Z[Europe/Paris]', '+12026-06-01T10:00:00Z', '']) {
      assert.equal(isRfc3339DateTime(bad), false, bad);
    }
  });

  test('agrees with the schema library\'s date-time format on generated values', () => {
    const two = (max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, '0'));
    const candidate = fc
      .tuple(fc.integer({ min: 0, max: 9999 }), two(14), two(33), fc.constantFrom('T', 't', ' '), two(25), two(61), two(62), fc.constantFrom('', '.5', '.123', '.'), fc.constantFrom('Z', 'z', '', '+00:00', '-08:00', '+23:59', '+24:00', '-01:60'))
      .map(([y, mo, d, sep, h, mi, s, frac, zone]) => `${String(y).padStart(4, '0')}-${mo}-${d}${sep}${h}:${mi}:${s}${frac}${zone}`);
    fc.assert(fc.property(fc.oneof(candidate, fc.string({ maxLength: 30 })), (value) => isRfc3339DateTime(value) === IsDateTime(value)), { numRuns: 20_000 });
  });
});
