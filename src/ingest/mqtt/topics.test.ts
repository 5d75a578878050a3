import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FrameGuard } from './frames.ts';
import { encodePropertyBag, isOwnDeviceboundFilter, parseTelemetryTopic, parseUsername } from './topics.ts';

describe('IoT Hub MQTT conventions', () => {
  test('reads the username as host and device, with or without the api-version query', () => {
    assert.deepEqual(parseUsername('Fleet.Example.net/d1/?api-version=2021-04-12'), { host: 'fleet.example.net', deviceId: 'd1' });
    assert.deepEqual(parseUsername('fleet.example.net/d1/?api-version=2021-04-12&DeviceClientType=x%2F1'), { host: 'fleet.example.net', deviceId: 'd1' });
    assert.deepEqual(parseUsername('fleet.example.net/d1'), { host: 'fleet.example.net', deviceId: 'd1' });
    for (const bad of ['d1', 'fleet.example.net/', 'fleet.example.net/d1/extra', 'fleet.example.net/d1/x/?a=1', '/d1']) assert.equal(parseUsername(bad), undefined, bad);
  });

  test('accepts only the device\'s own telemetry topic and splits off the system properties', () => {
    assert.deepEqual(parseTelemetryTopic('d1', 'devices/d1/messages/events/$.mid=m1&$.ct=application%2Fjson&$.ce=utf-8&a=b%26c&flag'), {
      ok: true,
      value: { messageId: 'm1', contentType: 'application/json', properties: { '$.ce': 'utf-8', a: 'b&c', flag: '' } },
    });
    assert.deepEqual(parseTelemetryTopic('d1', 'devices/d1/messages/events/'), { ok: true, value: { messageId: undefined, contentType: undefined, properties: {} } });
    for (const topic of ['devices/d2/messages/events/', 'devices/d1/messages/events', 'devices/d1/messages/events/a/b', 'devices/d1/messages/devicebound/', 'devices/d10/messages/events/']) {
      assert.equal(parseTelemetryTopic('d1', topic), undefined, topic);
    }
  });

  test('refuses ambiguous or undecodable property bags', () => {
    for (const bag of ['a=1&a=2', '$.mid=x&messageId=y', 'a=%E0%A4%A']) {
      const parsed = parseTelemetryTopic('d1', `devices/d1/messages/events/${bag}`);
      assert.equal(parsed?.ok, false, bag);
    }
    const proto = parseTelemetryTopic('d1', 'devices/d1/messages/events/__proto__=x');
    assert.ok(proto?.ok === true && Object.hasOwn(proto.value.properties, '__proto__'), 'a property named __proto__ stays data');
  });

  test('allows subscribing only to the device\'s own devicebound topics', () => {
    assert.ok(isOwnDeviceboundFilter('d1', 'devices/d1/messages/devicebound/#'));
    assert.ok(isOwnDeviceboundFilter('d1', 'devices/d1/messages/devicebound/a=b'));
    for (const filter of ['devices/d2/messages/devicebound/#', 'devices/d1/messages/devicebound/+', 'devices/d1/messages/#', '#', 'devices/+/messages/devicebound/#']) {
      assert.ok(!isOwnDeviceboundFilter('d1', filter), filter);
    }
  });

  test('encodes devicebound properties so they decode to the same values', () => {
    const bag = encodePropertyBag({ 'message-id': 'c 1', path: 'a/b&c=d' });
    assert.equal(bag, 'message-id=c%201&path=a%2Fb%26c%3Dd');
  });
});

describe('frame guard', () => {
  test('refuses a packet whose declared length is over the limit, before its body arrives', () => {
    const guard = new FrameGuard(1000);
    assert.equal(guard.scan(Buffer.from([0x30, 0xe8, 0x07])), undefined, '1000 bytes is allowed');
    assert.equal(guard.scan(Buffer.alloc(1000)), undefined);
    assert.equal(guard.scan(Buffer.from([0x30])), undefined);
    assert.equal(guard.scan(Buffer.from([0xe9])), undefined, 'length split across reads');
    assert.equal(guard.scan(Buffer.from([0x07])), 'too_large');
  });

  test('refuses a remaining length longer than four bytes', () => {
    assert.equal(new FrameGuard(1000).scan(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])), 'malformed');
  });
});
