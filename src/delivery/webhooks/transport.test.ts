import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { certificateFor, startReceiver, type Receiver } from '../../../test/support/webhooks.ts';
import type { Destination } from './ssrf.ts';
import { createHttpSender, USER_AGENT } from './transport.ts';

// The outbound HTTP adapter against real loopback servers: it connects to the
// vetted address while speaking to the host name, never follows a redirect,
// keeps to its deadline and stops reading long answers.

const NAME = 'hooks.example.test';

function pinned(url: string): Destination {
  const parsed = new URL(url);
  return { url: parsed, host: parsed.hostname.replace(/^\[|\]$/g, ''), address: { address: '127.0.0.1', family: 4 } };
}

const request = (destination: Destination, overrides: { timeoutMs?: number; maxResponseBytes?: number; signal?: AbortSignal } = {}) => ({
  destination,
  headers: { 'webhook-id': 'whd_x' },
  body: '{"type":"shipment.created"}',
  timeoutMs: overrides.timeoutMs ?? 5_000,
  maxResponseBytes: overrides.maxResponseBytes ?? 1024,
  ...(overrides.signal === undefined ? {} : { signal: overrides.signal }),
});

describe('webhook HTTP sender', () => {
  let tls: { cert: string; key: string };
  let secure: Receiver;

  before(async () => {
    tls = await certificateFor(NAME);
    secure = await startReceiver({ tls });
  });
  after(() => secure.close());

  test('connects to the vetted address but names the host: Host header, TLS server name and certificate check', async () => {
    const send = createHttpSender({ ca: tls.cert });
    // The name exists in no DNS: reaching the receiver proves the pinned address was used.
    const url = `https://${NAME}:${secure.port}/in?x=1`;
    const response = await send(request(pinned(url)));
    assert.equal(response.status, 200);
    const received = secure.requests.at(-1);
    assert.ok(received !== undefined);
    assert.equal(received.method, 'POST');
    assert.equal(received.path, '/in?x=1');
    assert.equal(received.headers.host, `${NAME}:${secure.port}`);
    assert.equal(received.headers['user-agent'], USER_AGENT);
    assert.equal(received.headers['content-type'], 'application/json');
    assert.equal(received.headers['webhook-id'], 'whd_x');
    assert.equal(received.body.toString(), '{"type":"shipment.created"}');
    assert.equal(received.serverName, NAME);
  });

  test('a certificate for another name is refused, even at the right address', async () => {
    const other = await certificateFor('elsewhere.example.test');
    const send = createHttpSender({ ca: [tls.cert, other.cert] });
    const impostor = await startReceiver({ tls: other });
    try {
      await assert.rejects(send(request(pinned(`https://${NAME}:${impostor.port}/`))), /altnames|does not match|ERR_TLS_CERT_ALTNAME_INVALID/);
      assert.equal(impostor.requests.length, 0);
    } finally {
      await impostor.close();
    }
  });

  test('without the receiver\'s CA the certificate is not trusted', async () => {
    await assert.rejects(createHttpSender()(request(pinned(`https://${NAME}:${secure.port}/`))), /self.signed|unable to verify|SELF_SIGNED/i);
  });

  test('never follows a redirect: the 3xx is the answer', async () => {
    const target = await startReceiver();
    const redirecting = await startReceiver({ respond: (_req, res) => res.writeHead(307, { location: `${target.origin}/stolen` }).end() });
    try {
      const response = await createHttpSender()(request(pinned(`${redirecting.origin}/`)));
      assert.equal(response.status, 307);
      assert.equal(target.requests.length, 0);
    } finally {
      await Promise.all([target.close(), redirecting.close()]);
    }
  });

  test('stops reading an endless answer after maxResponseBytes', async () => {
    let letGo!: () => void;
    const connectionClosed = new Promise<void>((resolve) => (letGo = resolve));
    const endless = await startReceiver({
      respond: (_req, res) => {
        res.on('close', letGo);
        res.writeHead(200, { 'retry-after': '120' });
        const chunk = Buffer.alloc(16 * 1024, 120);
        const pump = () => {
          while (res.write(chunk));
        };
        res.on('drain', pump);
        res.on('error', () => undefined);
        pump();
      },
    });
    try {
      // The answer never ends: resolving (rather than timing out) means the sender stopped reading.
      const response = await createHttpSender()(request(pinned(`${endless.origin}/`), { maxResponseBytes: 64 * 1024, timeoutMs: 10_000 }));
      assert.deepEqual(response, { status: 200, retryAfterSeconds: 120 });
      await connectionClosed;
    } finally {
      await endless.close();
    }
  });

  test('gives up at the deadline when the receiver does not answer, and when aborted', async () => {
    const silent = await startReceiver({ respond: () => undefined });
    try {
      // The receiver never answers: only the sender's own deadline can end the first request.
      await assert.rejects(createHttpSender()(request(pinned(`${silent.origin}/`), { timeoutMs: 300 })), /timed out after 300 ms/);
      const controller = new AbortController();
      const pending = createHttpSender()(request(pinned(`${silent.origin}/`), { signal: controller.signal }));
      // Abort once the request has arrived, so it is the abort (not a failed connect) that ends it.
      await silent.waitFor(2);
      controller.abort();
      await assert.rejects(pending, /aborted/);
    } finally {
      await silent.close();
    }
  });

  test('a refused connection is an error naming the cause', async () => {
    const gone = await startReceiver();
    const origin = gone.origin;
    await gone.close();
    await assert.rejects(createHttpSender()(request(pinned(`${origin}/`))), /ECONNREFUSED/);
  });
});
