import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { referenceToken, referenceVerify } from '../../test/support/sas-reference.ts';
import { checkSasClaims, coversResource, createSasToken, parseSasToken, SasTokenMalformedError, verifySasSignature, type SasKeyEncoding } from './sas.ts';

// SAS tokens against an independent implementation of the published format,
// and every way a token must be refused.

const HOSTS = ['fleet.example.net', 'localhost'];
const NOW = 1_780_000_000;
const MAX_LIFETIME = 7 * 86_400;
const PATH = 'drone-telemetry/publishers/d1';

type Reason = 'malformed' | 'expired' | 'lifetime_too_long' | 'wrong_resource' | 'bad_signature';

/** The checks in the authenticator's order, for one key: the refusal, or undefined when accepted. */
function refusal(token: string, key: string, options: { path?: string; encoding?: SasKeyEncoding; now?: number } = {}): Reason | undefined {
  let parsed;
  try {
    parsed = parseSasToken(token);
  } catch (error) {
    assert.ok(error instanceof SasTokenMalformedError);
    return 'malformed';
  }
  const claims = checkSasClaims(parsed, { requestedPath: options.path ?? PATH, allowedHosts: HOSTS, nowSeconds: options.now ?? NOW, maxLifetimeSeconds: MAX_LIFETIME });
  if (claims !== undefined) return claims;
  return verifySasSignature(parsed, key, options.encoding ?? 'utf8') ? undefined : 'bad_signature';
}

const deviceKey = () => randomBytes(32).toString('base64');

function reference(overrides: Partial<Parameters<typeof referenceToken>[0]> & { key: string }) {
  return referenceToken({ uri: `https://fleet.example.net/${PATH}`, keyName: 'primary', expiry: NOW + 3600, encoding: 'utf8', ...overrides });
}

describe('SAS tokens', () => {
  test('accepts tokens made by the reference implementation, in every variant devices send', async () => {
    const key = deviceKey();
    const variants: Array<[string, Parameters<typeof referenceToken>[0], SasKeyEncoding]> = [
      ['Event Hubs, https', { uri: `https://fleet.example.net/${PATH}`, key, keyName: 'primary', expiry: NOW + 60, encoding: 'utf8' }, 'utf8'],
      ['sb scheme', { uri: `sb://fleet.example.net/${PATH}`, key, keyName: 'primary', expiry: NOW + 60, encoding: 'utf8' }, 'utf8'],
      ['no scheme, no skn, IoT Hub key decoding', { uri: `fleet.example.net/${PATH}`, key, expiry: NOW + 60, encoding: 'base64' }, 'base64'],
      ['lower-case percent-encoding', { uri: `https://fleet.example.net/${PATH}`, key, keyName: 'secondary', expiry: NOW + 60, encoding: 'utf8', hexCase: 'lower' }, 'utf8'],
      ['host in upper case, with a port', { uri: `amqps://FLEET.example.net:5671/${PATH}`, key, keyName: 'primary', expiry: NOW + MAX_LIFETIME, encoding: 'utf8' }, 'utf8'],
      ['whole namespace', { uri: 'https://fleet.example.net/', key, keyName: 'primary', expiry: NOW + 60, encoding: 'utf8' }, 'utf8'],
    ];
    for (const [name, input, encoding] of variants) {
      const token = await referenceToken(input);
      assert.equal(refusal(token, key, { encoding }), undefined, name);
      assert.equal(refusal(token, key, { encoding, path: `${PATH}/messages` }), undefined, `${name}, for a path below`);
    }
  });

  test('tokens it creates match the reference implementation byte for byte, fields in the documented order', async () => {
    const key = deviceKey();
    for (const encoding of ['utf8', 'base64'] as const) {
      const ours = createSasToken({ resourceUri: `https://fleet.example.net/${PATH}`, key, keyName: 'primary', expiresAt: NOW + 3600, keyEncoding: encoding });
      assert.equal(ours, await reference({ key, encoding }));
      assert.match(ours, /^SharedAccessSignature sr=https%3A%2F%2Ffleet\.example\.net%2Fdrone-telemetry%2Fpublishers%2Fd1&sig=[A-Za-z0-9%]+&se=\d+&skn=primary$/);
      assert.equal(await referenceVerify(ours, key, encoding), true);
    }
    const iot = createSasToken({ resourceUri: 'localhost/devices/d1', key, expiresAt: NOW + 60, keyEncoding: 'base64' });
    assert.doesNotMatch(iot, /skn=/, 'no key name: IoT Hub device tokens');
    assert.equal(await referenceVerify(iot, key, 'base64'), true);
  });

  test('the two key encodings give different signatures, and each verifies only as itself', async () => {
    const key = deviceKey();
    const token = await reference({ key, encoding: 'base64' });
    assert.equal(refusal(token, key, { encoding: 'base64' }), undefined);
    assert.equal(refusal(token, key, { encoding: 'utf8' }), 'bad_signature');
  });

  test('rejects a SAS token whose signature has one bit flipped', async () => {
    const key = deviceKey();
    const token = await reference({ key });
    const sig = decodeURIComponent(/sig=([^&]+)/.exec(token)?.[1] ?? '');
    const bytes = Buffer.from(sig, 'base64');
    bytes[5] = (bytes[5] ?? 0) ^ 0x01;
    const flipped = token.replace(/sig=[^&]+/, `sig=${encodeURIComponent(bytes.toString('base64'))}`);
    assert.notEqual(flipped, token);
    assert.equal(refusal(flipped, key), 'bad_signature');
  });

  test('rejects a SAS token whose signature was made with another device\'s key', async () => {
    const token = await reference({ key: deviceKey() });
    assert.equal(refusal(token, deviceKey()), 'bad_signature');
  });

  test('rejects an expired token, one expiring right now, and one living longer than allowed', async () => {
    const key = deviceKey();
    assert.equal(refusal(await reference({ key, expiry: NOW - 1 }), key), 'expired');
    assert.equal(refusal(await reference({ key, expiry: NOW }), key), 'expired');
    assert.equal(refusal(await reference({ key, expiry: NOW + MAX_LIFETIME + 1 }), key), 'lifetime_too_long');
    assert.equal(refusal(await reference({ key, expiry: NOW + MAX_LIFETIME }), key), undefined);
  });

  test('rejects a token whose expiry was extended after signing', async () => {
    const key = deviceKey();
    const token = await reference({ key, expiry: NOW + 60 });
    const extended = token.replace(`se=${NOW + 60}`, `se=${NOW + 3600}`);
    assert.notEqual(extended, token);
    assert.equal(refusal(extended, key), 'bad_signature');
  });

  test('rejects a token for another resource: one segment off, a longer id, a parent, another host', async () => {
    const key = deviceKey();
    const cases: Array<[string, string]> = [
      [`https://fleet.example.net/truck-telemetry/publishers/d1`, PATH],
      [`https://fleet.example.net/${PATH}`, 'drone-telemetry/publishers/d10'],
      [`https://fleet.example.net/${PATH}/messages`, PATH],
      [`https://evil.example.net/${PATH}`, PATH],
      [`https://fleet.example.net.evil.example/${PATH}`, PATH],
      [`ftp://fleet.example.net/${PATH}`, PATH],
    ];
    for (const [uri, path] of cases) assert.equal(refusal(await reference({ key, uri }), key, { path }), 'wrong_resource', `${uri} for ${path}`);
  });

  test('rejects malformed tokens: duplicated or missing fields, unknown fields, junk', async () => {
    const key = deviceKey();
    const token = await reference({ key });
    const sr = /sr=[^&]+/.exec(token)?.[0] ?? '';
    const malformed = [
      '',
      'junk',
      token.replace('SharedAccessSignature ', 'SharedAccessSignature  '),
      token.replace('SharedAccessSignature ', 'sharedaccesssignature '),
      token.replace('SharedAccessSignature ', 'Bearer '),
      `${token}&${sr}`,
      `${token}&skn=secondary`,
      token.replace(/&se=\d+/, ''),
      token.replace(/sr=[^&]+&/, ''),
      token.replace(/&sig=[^&]+/, ''),
      `${token}&foo=bar`,
      `${token}&`,
      token.replace(/se=\d+/, 'se=-5'),
      token.replace(/se=\d+/, 'se=1e12'),
      token.replace(/se=\d+/, 'se=0123'),
      token.replace(/sig=[^&]+/, 'sig=AAAA'),
      token.replace(/sig=[^&]+/, 'sig=%E0%A4%A'),
      token.replace(/skn=\w+/, 'skn='),
      token.replace(/skn=\w+/, 'skn=a%20b'),
      `${token}\n`,
      `${token} `,
      token.replace(/sr=[^&]+/, 'sr=https%3A%2F%2Ffleet.example.net%2F%ZZ'),
      `SharedAccessSignature ${'a'.repeat(5000)}`,
    ];
    for (const text of malformed) assert.equal(refusal(text, key), 'malformed', JSON.stringify(text.slice(0, 120)));
    const [sr2, sig, se, skn] = token.slice('SharedAccessSignature '.length).split('&');
    assert.equal(refusal(`SharedAccessSignature ${[skn, se, sig, sr2].join('&')}`, key), undefined, 'fields in another order are still one token');
  });

  test('a token without skn is malformed where the key name is required (Event Hubs), and parses where it is not (IoT Hub devices)', async () => {
    const key = deviceKey();
    const withoutKeyName = await referenceToken({ uri: `fleet.example.net/devices/d1`, key, expiry: NOW + 60, encoding: 'base64' });
    assert.doesNotMatch(withoutKeyName, /skn=/);
    assert.throws(() => parseSasToken(withoutKeyName, { requireKeyName: true }), (error: unknown) => error instanceof SasTokenMalformedError && /skn is required/.test(error.message));
    assert.equal(parseSasToken(withoutKeyName).keyName, undefined);
    assert.equal(parseSasToken(withoutKeyName, { requireKeyName: false }).keyName, undefined);
    assert.equal(parseSasToken(await reference({ key }), { requireKeyName: true }).keyName, 'primary');
  });

  test('coverage by whole segments', () => {
    const table: Array<[string, string, boolean]> = [
      ['https://fleet.example.net/hub/publishers/d1', 'hub/publishers/d1', true],
      ['https://fleet.example.net/hub/publishers/d1', '/hub/publishers/d1', true],
      ['https://fleet.example.net/hub/publishers/d1', 'hub/publishers/d1/messages', true],
      ['https://fleet.example.net/hub/publishers/d1/', 'hub/publishers/d1/messages', true],
      ['https://fleet.example.net/hub', 'hub/publishers/d1', true],
      ['fleet.example.net', 'hub/publishers/d1', true],
      ['https://Fleet.Example.NET:443/Hub/Publishers/D1', 'hub/publishers/d1', true],
      ['https://fleet.example.net/hub/publishers/d1', 'hub/publishers/d10', false],
      ['https://fleet.example.net/hub/publishers/d1', 'hub/publishers', false],
      ['https://fleet.example.net/hub/publishers/d1', 'hub/publishers/d2', false],
      ['https://fleet.example.net/hub/publishers/d1', 'hub2/publishers/d1', false],
      ['https://fleet.example.net/hub/publishers/d', 'hub/publishers/d1', false],
      ['https://fleet.example.net/hub/publishers/d1/..', 'hub/publishers/d2', false],
      ['https://fleet.example.net/hub/publishers/d1/../d2', 'hub/publishers/d2', false],
      ['https://fleet.example.net/hub/publishers/d1', 'hub/publishers/d1/../d2', false],
      ['https://fleet.example.net/hub/publishers/./d1', 'hub/publishers/d1', false],
      ['https://fleet.example.net/hub//publishers/d1', 'hub/publishers/d1', false],
      ['https://fleet.example.net/hub/publishers/d1', 'hub//publishers/d1', false],
      ['https://fleet.example.net/hub/publishers/d1%2F..%2Fd2', 'hub/publishers/d1/../d2', false],
      ['https://fleet.example.net/hub%2Fpublishers%2Fd1', 'hub/publishers/d1', false],
      ['https://fleet.example.net/hub/publishers/d1?x=1', 'hub/publishers/d1', false],
      ['https://fleet.example.net/hub/publishers/d1#frag', 'hub/publishers/d1', false],
      ['https://fleet.example.net/hub/publishers/d1 ', 'hub/publishers/d1', false],
      ['https://fleet.example.net/hub/publishers/d1\\x', 'hub/publishers/d1', false],
      ['https://user@fleet.example.net/hub/publishers/d1', 'hub/publishers/d1', false],
      ['https://fleet.example.net:99999x/hub/publishers/d1', 'hub/publishers/d1', false],
      ['http://fleet.example.net/hub/publishers/d1', 'hub/publishers/d1', false],
      ['https://other.example.net/hub/publishers/d1', 'hub/publishers/d1', false],
      ['https://localhost/hub/publishers/d1', 'hub/publishers/d1', true],
      ['localhost/devices/d1', 'devices/d1', true],
      ['localhost/devices/d1', 'devices/d1x', false],
    ];
    for (const [token, requested, expected] of table) assert.equal(coversResource(token, requested, HOSTS), expected, `${token} for ${requested}`);
  });

  test('a token naming the resource with %2F inside a segment is refused, even when correctly signed', async () => {
    const key = deviceKey();
    const token = await reference({ key, uri: 'https://fleet.example.net/drone-telemetry/publishers/d1%2F..%2Fd2' });
    assert.equal(refusal(token, key, { path: 'drone-telemetry/publishers/d2' }), 'wrong_resource');
  });
});
