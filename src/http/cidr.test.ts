import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { admitsEveryone, createAddressMatcher, isLoopbackHost, isValidCidr } from './cidr.ts';

describe('address matching', () => {
  test('denies by default', () => {
    const none = createAddressMatcher([]);
    assert.equal(none('127.0.0.1'), false);
    assert.equal(createAddressMatcher(['127.0.0.0/8'])(undefined), false);
    assert.equal(createAddressMatcher(['127.0.0.0/8'])('not an address'), false);
  });

  test('matches ranges and single addresses of both families', () => {
    const allow = createAddressMatcher(['10.0.0.0/8', '192.168.1.7', '2001:db8::/32']);
    assert.equal(allow('10.200.3.4'), true);
    assert.equal(allow('11.0.0.1'), false);
    assert.equal(allow('192.168.1.7'), true);
    assert.equal(allow('192.168.1.8'), false);
    assert.equal(allow('2001:db8:1::5'), true);
    assert.equal(allow('2001:db9::1'), false);
  });

  test('treats IPv4-mapped IPv6 peers as the IPv4 address they carry', () => {
    assert.equal(createAddressMatcher(['10.0.0.0/8'])('::ffff:10.1.2.3'), true);
    assert.equal(createAddressMatcher(['10.0.0.0/8'])('::ffff:127.0.0.1'), false);
    assert.equal(createAddressMatcher(['::ffff:10.0.0.0/104'])('10.9.9.9'), true);
  });

  test('knows loopback, /0 and malformed ranges', () => {
    assert.equal(isLoopbackHost('127.0.0.1'), true);
    assert.equal(isLoopbackHost('::1'), true);
    assert.equal(isLoopbackHost('0.0.0.0'), false);
    assert.equal(isLoopbackHost('localhost'), false);
    assert.equal(admitsEveryone('0.0.0.0/0'), true);
    assert.equal(admitsEveryone('::/0'), true);
    assert.equal(admitsEveryone('10.0.0.0/8'), false);
    assert.equal(isValidCidr('10.0.0.0/33'), false);
    assert.equal(isValidCidr('banana'), false);
  });
});
