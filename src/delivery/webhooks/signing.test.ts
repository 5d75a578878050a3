import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hasCode } from '../../../test/support/errors.ts';
import { referenceHmacSha256, verifyStandardWebhook } from '../../../test/support/standard-webhooks.ts';
import { newWebhookSecret, SECRET_BYTES, webhookHeaders } from './signing.ts';

// Signatures checked by a receiver written from the Standard Webhooks
// specification (with its own HMAC), not by the signer's code.

const NOW = 1_780_000_000;
const BODY = JSON.stringify({ id: 'evt_1', type: 'shipment.delivered', timestamp: '2026-06-01T10:00:00.000Z', data: { id: 'shp_1' } });

function signed(secret: string, body = BODY, timestamp = NOW, id = 'whd_AAAAAAAAAAAAAAAAAAAAAA') {
  return { headers: webhookHeaders({ id, timestamp, body }, secret), body: Buffer.from(body, 'utf8') };
}

describe('webhook signing', () => {
  test('the reference HMAC agrees with RFC 4231 test case 2', () => {
    const mac = referenceHmacSha256(Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?'));
    assert.equal(mac.toString('hex'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  test('secrets are whsec_ plus 256 random bits, different every time', () => {
    const secrets = new Set(Array.from({ length: 50 }, () => newWebhookSecret()));
    assert.equal(secrets.size, 50);
    for (const secret of secrets) {
      assert.match(secret, /^whsec_[A-Za-z0-9+/]+=*$/);
      assert.equal(Buffer.from(secret.slice(6), 'base64').length, SECRET_BYTES);
      assert.ok(SECRET_BYTES * 8 >= 192);
    }
  });

  test('a secret without the whsec_ prefix, or of the wrong length, signs nothing', () => {
    const key = (bytes: number) => Buffer.alloc(bytes, 7).toString('base64');
    assert.throws(() => signed(key(32)), hasCode('webhook.secret_invalid', /lacks the whsec_ prefix/));
    assert.throws(() => signed(`whsec_${key(23)}`), hasCode('webhook.secret_invalid', /not 24 to 64 bytes/));
    assert.throws(() => signed(`whsec_${key(65)}`), hasCode('webhook.secret_invalid', /not 24 to 64 bytes/));
    assert.doesNotThrow(() => signed(`whsec_${key(24)}`));
    assert.doesNotThrow(() => signed(`whsec_${key(64)}`));
  });

  test('a signed webhook verifies with the endpoint secret, and the headers are the specification\'s', () => {
    const secret = newWebhookSecret();
    const message = signed(secret);
    assert.deepEqual(Object.keys(message.headers).sort(), ['webhook-id', 'webhook-signature', 'webhook-timestamp']);
    assert.equal(message.headers['webhook-timestamp'], String(NOW));
    assert.match(message.headers['webhook-signature'] ?? '', /^v1,[A-Za-z0-9+/]{43}=$/);
    assert.deepEqual(verifyStandardWebhook(message, secret, NOW), { ok: true });
  });

  test('an altered body, id or timestamp, or another secret, fails verification', () => {
    const secret = newWebhookSecret();
    const message = signed(secret);
    const altered = Buffer.from(BODY.replace('shp_1', 'shp_2'), 'utf8');
    assert.equal(verifyStandardWebhook({ ...message, body: altered }, secret, NOW).ok, false);
    assert.equal(verifyStandardWebhook({ ...message, body: Buffer.from(`${BODY} `) }, secret, NOW).ok, false, 'even one trailing space');
    assert.equal(verifyStandardWebhook({ ...message, headers: { ...message.headers, 'webhook-id': 'whd_BBBBBBBBBBBBBBBBBBBBBB' } }, secret, NOW).ok, false);
    assert.equal(verifyStandardWebhook({ ...message, headers: { ...message.headers, 'webhook-timestamp': String(NOW + 1) } }, secret, NOW).ok, false);
    assert.equal(verifyStandardWebhook(message, newWebhookSecret(), NOW).ok, false);
  });

  test('a replayed webhook fails once its timestamp is outside the receiver\'s tolerance', () => {
    const secret = newWebhookSecret();
    const message = signed(secret);
    assert.equal(verifyStandardWebhook(message, secret, NOW + 299).ok, true);
    assert.deepEqual(verifyStandardWebhook(message, secret, NOW + 301), { ok: false, reason: 'timestamp outside tolerance' });
    // Re-stamping the captured request with a fresh time breaks the signature instead.
    assert.deepEqual(verifyStandardWebhook({ ...message, headers: { ...message.headers, 'webhook-timestamp': String(NOW + 301) } }, secret, NOW + 301), { ok: false, reason: 'no matching signature' });
  });

  test('non-ASCII bodies are signed as their UTF-8 bytes', () => {
    const secret = newWebhookSecret();
    const body = JSON.stringify({ depot: 'Zürich – Nord' });
    assert.equal(verifyStandardWebhook(signed(secret, body), secret, NOW).ok, true);
  });
});
