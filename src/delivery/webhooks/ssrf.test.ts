import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hasCode } from '../../../test/support/errors.ts';
import { addressRange, DestinationGuard, DestinationRefused, systemResolver, type ResolvedAddress, type Resolver } from './ssrf.ts';

// The SSRF guard on its own: which addresses are public, which URLs are
// refused without DNS, and that every resolved address must pass.

function resolverOf(table: Record<string, readonly ResolvedAddress[]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = (hostname: string) => {
    calls.push(hostname);
    const found = table[hostname];
    if (found === undefined) return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    return Promise.resolve(found);
  };
  return Object.assign(resolve, { calls });
}

const v4 = (address: string): ResolvedAddress => ({ address, family: 4 });
const v6 = (address: string): ResolvedAddress => ({ address, family: 6 });

function refused(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof DestinationRefused, String(error));
    assert.equal(error.code, 'webhook.url_refused');
    assert.match(error.message, pattern);
    assert.equal(error.publicDetail, error.message, 'the reason is shown to the administrator');
    return true;
  };
}

describe('webhook destination guard', () => {
  test('only globally routable unicast addresses are public', () => {
    const cases: Record<string, string> = {
      '93.184.215.14': 'public',
      '2606:4700:4700::1111': 'public',
      '127.0.0.1': 'loopback',
      '127.255.0.9': 'loopback',
      '::1': 'loopback',
      '10.1.2.3': 'private',
      '172.16.0.1': 'private',
      '172.31.255.255': 'private',
      '192.168.1.1': 'private',
      '100.64.0.1': 'carrierGradeNat',
      '169.254.169.254': 'linkLocal',
      'fe80::1': 'linkLocal',
      'fc00::1': 'uniqueLocal',
      'fd12:3456::1': 'uniqueLocal',
      '224.0.0.1': 'multicast',
      'ff02::1': 'multicast',
      '0.0.0.0': 'unspecified',
      '::': 'unspecified',
      '255.255.255.255': 'broadcast',
      '240.0.0.1': 'reserved',
      '::ffff:127.0.0.1': 'loopback',
      '::ffff:10.0.0.1': 'private',
      '::ffff:169.254.169.254': 'linkLocal',
      '::7f00:1': 'nonGlobalIpv6',
      '64:ff9b::a00:1': 'rfc6052',
      '2002:7f00:1::': '6to4',
      'not-an-address': 'invalid',
    };
    for (const [address, range] of Object.entries(cases)) assert.equal(addressRange(address), range, address);
  });

  test('refuses at creation URLs that literally target loopback, private, CGNAT, link-local, unique-local, multicast or unspecified addresses', () => {
    const guard = new DestinationGuard({ allowPrivateCidrs: [] });
    const urls = [
      'https://127.0.0.1/hook',
      'https://127.0.0.1:8443/hook',
      'https://[::1]/hook',
      'https://10.0.0.7/hook',
      'https://172.20.1.1/',
      'https://192.168.0.10/',
      'https://100.100.100.100/',
      'https://169.254.169.254/latest/meta-data/',
      'https://[fd00::1]/',
      'https://[fe80::1]/',
      'https://224.0.0.251/',
      'https://0.0.0.0/',
      'https://[::ffff:127.0.0.1]/',
      'https://[::ffff:a9fe:a9fe]/',
      // Alternative spellings of 127.0.0.1, normalised by the URL parser.
      'https://2130706433/',
      'https://0x7f.1/',
      'https://127.1/',
      'https://017700000001/',
      'https://localhost/hook',
      'https://LOCALHOST./hook',
      'https://api.localhost/hook',
    ];
    for (const url of urls) assert.throws(() => guard.checkUrl(url), refused(/may not reach/), url);
  });

  test('refuses other schemes, credentials and plain http to public hosts; accepts public https', () => {
    const guard = new DestinationGuard({ allowPrivateCidrs: [] });
    assert.throws(() => guard.checkUrl('not a url'), refused(/not an absolute URL/));
    assert.throws(() => guard.checkUrl('/relative'), refused(/not an absolute URL/));
    for (const url of ['ftp://example.com/', 'file:///etc/passwd', 'gopher://example.com/', 'javascript:alert(1)']) assert.throws(() => guard.checkUrl(url), refused(/scheme/), url);
    assert.throws(() => guard.checkUrl('https://user:pass@hooks.example.com/'), refused(/user name or password/));
    assert.throws(() => guard.checkUrl('http://hooks.example.com/'), refused(/Plain http/));
    assert.throws(() => guard.checkUrl('http://93.184.215.14/'), refused(/Plain http/));
    assert.equal(guard.checkUrl('https://hooks.example.com/rampart?x=1').href, 'https://hooks.example.com/rampart?x=1');
    assert.equal(guard.checkUrl('https://93.184.215.14:8443/in').href, 'https://93.184.215.14:8443/in');
  });

  test('an allow-listed range may be reached, also over plain http; nothing else is opened by it', () => {
    const guard = new DestinationGuard({ allowPrivateCidrs: ['127.0.0.0/8', '10.20.0.0/16'] });
    assert.equal(guard.checkUrl('http://127.0.0.1:9000/hook').host, '127.0.0.1:9000');
    assert.equal(guard.checkUrl('https://10.20.3.4/').hostname, '10.20.3.4');
    assert.equal(guard.checkUrl('http://[::ffff:127.0.0.1]/').hostname, '[::ffff:7f00:1]', 'mapped IPv6 judged as the IPv4 it carries');
    assert.throws(() => guard.checkUrl('https://10.21.0.1/'), refused(/private/));
    assert.throws(() => guard.checkUrl('https://[::1]/'), refused(/loopback/), '::1 is not in 127.0.0.0/8');
    assert.throws(() => guard.checkUrl('http://93.184.215.14/'), refused(/Plain http/), 'http only to allow-listed addresses');
  });

  test('at send time every resolved address must pass: one private address among public ones refuses the name', async () => {
    const resolver = resolverOf({
      'hooks.example.com': [v4('93.184.215.14'), v6('2606:4700:4700::1111')],
      'mixed.example.com': [v4('93.184.215.14'), v4('10.0.0.5')],
      'rebind.example.com': [v6('::ffff:127.0.0.1')],
      'metadata.example.com': [v4('169.254.169.254')],
      'inside.example.com': [v4('127.0.0.1')],
    });
    const guard = new DestinationGuard({ allowPrivateCidrs: [] }, resolver);
    const ok = await guard.resolve('https://hooks.example.com/in');
    assert.deepEqual(ok.address, v4('93.184.215.14'), 'the first vetted address is the one to connect to');
    assert.equal(ok.host, 'hooks.example.com');
    await assert.rejects(guard.resolve('https://mixed.example.com/'), refused(/mixed\.example\.com \(10\.0\.0\.5\) is a private/));
    await assert.rejects(guard.resolve('https://rebind.example.com/'), refused(/loopback/));
    await assert.rejects(guard.resolve('https://metadata.example.com/'), refused(/link-local/));
    await assert.rejects(guard.resolve('https://inside.example.com/'), refused(/loopback/));
    await assert.rejects(guard.resolve('https://127.0.0.1/'), refused(/loopback/));
    assert.ok(!resolver.calls.includes('127.0.0.1'), 'a literal address is not looked up');
  });

  test('a name the operating system resolves to loopback (as it does localhost) is refused at send time', async () => {
    const viaHostsFile: Resolver = (hostname) => systemResolver(hostname === 'hooks.internal.test' ? 'localhost' : hostname);
    const addresses = await viaHostsFile('hooks.internal.test');
    assert.ok(addresses.length > 0 && addresses.every((a) => addressRange(a.address) === 'loopback'), JSON.stringify(addresses));
    const guard = new DestinationGuard({ allowPrivateCidrs: [] }, viaHostsFile);
    assert.equal(guard.checkUrl('https://hooks.internal.test/').hostname, 'hooks.internal.test', 'nothing to see in the name itself');
    await assert.rejects(guard.resolve('https://hooks.internal.test/'), refused(/hooks\.internal\.test \((127\.0\.0\.1|::1)\) is a loopback/));
  });

  test('a name that does not resolve is an ordinary, retryable error, not a refusal', async () => {
    const guard = new DestinationGuard({ allowPrivateCidrs: [] }, resolverOf({ 'empty.example.com': [] }));
    await assert.rejects(guard.resolve('https://gone.example.com/'), (error: unknown) => !(error instanceof DestinationRefused) && hasCode('webhook.host_unresolvable', /cannot resolve gone\.example\.com: ENOTFOUND/)(error));
    await assert.rejects(guard.resolve('https://empty.example.com/'), hasCode('webhook.host_unresolvable', /empty\.example\.com has no addresses/));
  });

  test('plain http to a name passes only when every address it resolves to is allow-listed', async () => {
    const guard = new DestinationGuard({ allowPrivateCidrs: ['127.0.0.0/8'] }, resolverOf({ 'local.test': [v4('127.0.0.1')], 'half.test': [v4('127.0.0.1'), v4('93.184.215.14')] }));
    assert.deepEqual((await guard.resolve('http://local.test:8080/')).address, v4('127.0.0.1'));
    await assert.rejects(guard.resolve('http://half.test/'), refused(/Plain http/));
    assert.deepEqual((await guard.resolve('https://half.test/')).address, v4('127.0.0.1'), 'https to a mix of allow-listed and public addresses is fine');
  });
});
