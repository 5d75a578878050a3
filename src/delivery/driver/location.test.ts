import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { locationEvent } from './location.ts';

const rules = { partitions: 4, retentionHours: 168, retentionMaxBytes: 1_000_000, schema: 'truck' as const, onInvalid: 'refuse' as const, allowNonJson: false };
const ping = { lat: 52.5, lon: 13.4, accuracyM: 12, timestamp: '2026-07-01T09:00:00Z' };

describe('driver location events', () => {
  test('a ping is stored as the driver, flagged for the missing odometer even on a refusing hub', () => {
    const event = locationEvent('acc_1', ping, rules, { maxEventBytes: 4096 }, { routeId: 'rte_1', vehicleId: 'v1' });
    assert.equal(event.publisher, 'driver-acc_1');
    assert.deepEqual(JSON.parse(Buffer.from(event.body).toString('utf8')), { lat: 52.5, lon: 13.4, timestamp: '2026-07-01T09:00:00Z' });
    assert.deepEqual({ ...event.properties, 'rampart-schema-problem': undefined }, { source: 'driver-app', accuracyM: '12', routeId: 'rte_1', vehicleId: 'v1', 'rampart-schema-invalid': 'true', 'rampart-schema-problem': undefined });
    assert.match(event.properties['rampart-schema-problem'] ?? '', /odometer/);
    assert.equal(event.messageId, `fix-${Date.parse(ping.timestamp)}`);
  });

  test('without a route the properties name only the source and accuracy', () => {
    const event = locationEvent('acc_1', { ...ping, speed: 3, heading: 10 }, rules, { maxEventBytes: 4096 }, {});
    assert.equal(event.properties['routeId'], undefined);
    assert.deepEqual(JSON.parse(Buffer.from(event.body).toString('utf8')), { lat: 52.5, lon: 13.4, speed: 3, heading: 10, timestamp: '2026-07-01T09:00:00Z' });
  });

  test('the hub\'s size limit still applies', () => {
    assert.throws(() => locationEvent('acc_1', ping, rules, { maxEventBytes: 10 }, {}), /limit/);
  });
});
