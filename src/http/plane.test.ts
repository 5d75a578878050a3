import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { connect as connectNet } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { Agent, fetch } from 'undici';
import Type from 'typebox';
import type { PlaneConfig, PlaneName } from '../config/schema.ts';
import { ConfigError, RampartError, StorageError } from '../kernel/errors.ts';
import { createMemoryLogger } from '../kernel/logger.ts';
import { createMetrics } from '../kernel/metrics.ts';
import { testConfig } from '../../test/support/config.ts';
import { selfSignedCertificate } from '../../test/support/certs.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { registerHealthRoutes, registerMetricsRoute } from './health.routes.ts';
import { createPlane, type Plane } from './plane.ts';

type PlanePatch = Partial<Omit<PlaneConfig, 'timeouts'>> & { timeouts?: Partial<PlaneConfig['timeouts']> };

async function startPlane(patch: PlanePatch = {}, options: { name?: PlaneName; securityHeaders?: boolean; quietSuccess?: boolean; setup?: (plane: Plane) => void } = {}) {
  const dir = tempDir('rampart-plane');
  const name = options.name ?? 'app';
  const config = testConfig(dir.path, { planes: { [name]: patch } }).planes[name];
  const memory = createMemoryLogger();
  const metrics = createMetrics({ defaultMetrics: false });
  const plane = await createPlane({ name, config, logger: memory.logger, metrics, securityHeaders: (options.securityHeaders ?? name === 'app') ? { imageSources: [] } : false, ...(options.quietSuccess === undefined ? {} : { quietSuccess: options.quietSuccess }) });
  options.setup?.(plane);
  const url = await plane.listen();
  return {
    plane,
    url,
    metrics,
    logs: memory.lines,
    stop: async () => {
      await plane.close(500);
      dir.cleanup();
    },
  };
}

/** Resolves with how the connection ended: a response status line, or the socket error/close. */
function rawExchange(url: string, payload: string): Promise<{ data: string; error?: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    let data = '';
    const socket = connectNet({ host: hostname, port: Number(port) }, () => socket.write(payload));
    socket.on('data', (chunk) => (data += chunk.toString()));
    socket.on('error', (error: NodeJS.ErrnoException) => resolve({ data, error: error.code ?? error.message }));
    socket.on('close', () => resolve({ data }));
  });
}

describe('plane request logging', () => {
  test('a quiet plane logs accepted requests at debug and refusals at info', async () => {
    const started = await startPlane({}, {
      name: 'device',
      quietSuccess: true,
      setup: (plane) => {
        plane.app.post('/accepted', (_request, reply) => reply.code(201).send());
        plane.app.post('/refused', () => Promise.reject(new RampartError('device.unauthorized', 'no token')));
      },
    });
    try {
      await fetch(`${started.url}/accepted`, { method: 'POST' });
      await fetch(`${started.url}/refused`, { method: 'POST' });
      const requests = started.logs().map((l) => JSON.parse(l) as { msg: string; level: number; route?: string; status?: number }).filter((l) => l.msg === 'request');
      assert.deepEqual(requests.map((l) => [l.route, l.status, l.level]), [['/accepted', 201, 20], ['/refused', 401, 30]]);
    } finally {
      await started.stop();
    }
  });
});

describe('plane allow-list', () => {
  test('closes a connection from a non-allowed address before any routing, and logs it', async () => {
    let handled = 0;
    const started = await startPlane({ allow: ['10.0.0.0/8'] }, {
      setup: (plane) =>
        plane.app.get('/probe', () => {
          handled++;
          return { ok: true };
        }),
    });
    try {
      const result = await rawExchange(started.url, 'GET /probe HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.equal(result.data, '', 'no byte of HTTP came back');
      assert.equal(handled, 0, 'the handler never ran');
      const refusal = started.logs().map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'connection refused by allow-list');
      assert.ok(refusal !== undefined, 'the refusal was logged');
      assert.equal(refusal['remoteAddress'], '127.0.0.1');
      assert.equal(refusal['plane'], 'app');
      assert.match(await started.metrics.registry.metrics(), /rampart_connections_refused_total\{plane="app",reason="allow-list"\} 1/);
    } finally {
      await started.stop();
    }
  });

  test('closes a TLS connection from a non-allowed address before the handshake', async () => {
    const dir = tempDir('rampart-cert');
    const cert = await selfSignedCertificate(dir.path);
    const started = await startPlane({ allow: ['192.168.0.0/16'], tls: { certFile: cert.certFile, keyFile: cert.keyFile, minVersion: 'TLSv1.2' } });
    try {
      const { port } = new URL(started.url);
      const outcome = await new Promise<string>((resolve) => {
        const socket = connectTls({ host: '127.0.0.1', port: Number(port), ca: cert.certPem });
        socket.on('secureConnect', () => resolve('handshake completed'));
        socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      });
      assert.notEqual(outcome, 'handshake completed');
    } finally {
      await started.stop();
      dir.cleanup();
    }
  });

  test('admits an allowed address', async () => {
    const started = await startPlane({ allow: ['127.0.0.1/32'] }, { setup: (plane) => registerHealthRoutes(plane, { checkDatabase: () => Promise.resolve() }) });
    try {
      const response = await fetch(`${started.url}/healthz`);
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { status: 'ok' });
    } finally {
      await started.stop();
    }
  });
});

describe('plane problem responses', () => {
  let started: Awaited<ReturnType<typeof startPlane>>;
  let handled = 0;
  before(async () => {
    started = await startPlane({ bodyLimitBytes: 2048 }, {
      setup: (plane) => {
        plane.app.get('/boom', () => {
          throw new Error('connect ECONNREFUSED 10.9.8.7:5432 password=hunter2');
        });
        plane.app.get('/refused', () => {
          throw new RampartError('storage.conflict', 'username admin taken by acct_123', { publicDetail: 'that username is taken' });
        });
        plane.app.post(
          '/items',
          { schema: { body: Type.Object({ name: Type.String({ minLength: 1 }), count: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }) } },
          (request) => {
            handled++;
            return { received: request.body.name };
          },
        );
      },
    });
  });
  after(() => started.stop());

  async function problem(path: string, init?: Parameters<typeof fetch>[1]) {
    const response = await fetch(`${started.url}${path}`, init);
    assert.equal(response.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body['requestId'], response.headers.get('x-request-id'), 'the problem names the request id');
    return { status: response.status, body, text: JSON.stringify(body) };
  }

  test('hides the internals of an unexpected failure but logs them under the request id', async () => {
    const { status, body, text } = await problem('/boom');
    assert.equal(status, 500);
    assert.equal(body['code'], 'internal');
    assert.equal(body['type'], 'urn:rampart:problem:internal');
    for (const leak of ['ECONNREFUSED', 'hunter2', '10.9.8.7', 'stack', 'plane.test.ts']) assert.ok(!text.includes(leak), `response leaks ${leak}`);
    const logged = started.logs().find((l) => l.includes(String(body['requestId'])) && l.includes('request failed'));
    assert.ok(logged?.includes('ECONNREFUSED'), 'the operator can find the cause in the log');
  });

  test('shows a domain error\'s public detail only, never its message', async () => {
    const { status, body, text } = await problem('/refused');
    assert.equal(status, 409);
    assert.equal(body['code'], 'storage.conflict');
    assert.equal(body['detail'], 'that username is taken');
    assert.ok(!text.includes('acct_123'));
  });

  test('lists each invalid field and never runs the handler', async () => {
    const { status, body } = await problem('/items', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: '', count: 0, admin: true }) });
    assert.equal(status, 400);
    assert.equal(body['code'], 'request.invalid');
    const fields = (body['errors'] as Array<{ field: string }>).map((e) => e.field).sort();
    assert.deepEqual(fields, ['body.admin', 'body.count', 'body.name']);
    assert.equal(handled, 0);
  });

  test('answers malformed JSON, prototype poisoning, oversize and unsupported bodies with their own codes', async () => {
    const post = (body: string, type = 'application/json') => problem('/items', { method: 'POST', headers: { 'content-type': type }, body });
    assert.equal((await post('{"name": ')).body['code'], 'request.malformed');
    assert.equal((await post('{"__proto__": {"admin": true}, "name": "x", "count": 1}')).body['code'], 'request.malformed');
    const big = await post(JSON.stringify({ name: 'x'.repeat(4096), count: 1 }));
    assert.equal(big.status, 413);
    assert.equal(big.body['code'], 'request.too_large');
    const xml = await post('<name>x</name>', 'application/xml');
    assert.equal(xml.status, 415);
    assert.equal(xml.body['code'], 'request.unsupported_media_type');
    assert.equal(handled, 0);
  });

  test('answers an unknown path with a not-found problem', async () => {
    const { status, body } = await problem('/nope');
    assert.equal(status, 404);
    assert.equal(body['code'], 'route.not_found');
  });

  test('sets browser security headers on the app plane', async () => {
    const response = await fetch(`${started.url}/nope`);
    assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.doesNotMatch(response.headers.get('content-security-policy') ?? '', /upgrade-insecure-requests/, 'not on a plain-HTTP plane');
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.equal(response.headers.get('x-powered-by'), null);
  });
});

describe('plane readiness, metrics and proxies', () => {
  test('reports ready only while the database answers', async () => {
    let databaseUp = true;
    const started = await startPlane({}, {
      setup: (plane) =>
        registerHealthRoutes(plane, {
          checkDatabase: () => (databaseUp ? Promise.resolve() : Promise.reject(new StorageError('storage.unavailable', 'db down at 10.0.0.5'))),
        }),
    });
    try {
      assert.equal((await fetch(`${started.url}/readyz`)).status, 200);
      databaseUp = false;
      const down = await fetch(`${started.url}/readyz`);
      assert.equal(down.status, 503);
      const body = (await down.json()) as Record<string, unknown>;
      assert.equal(body['code'], 'storage.unavailable');
      assert.ok(!JSON.stringify(body).includes('10.0.0.5'));
      assert.equal((await fetch(`${started.url}/healthz`)).status, 200, 'liveness does not depend on the database');
    } finally {
      await started.stop();
    }
  });

  test('exposes Prometheus metrics where registered', async () => {
    const started = await startPlane({}, { name: 'admin', setup: (plane) => registerMetricsRoute(plane, createMetrics({ defaultMetrics: false })) });
    try {
      const response = await fetch(`${started.url}/metrics`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    } finally {
      await started.stop();
    }
  });

  test('believes X-Forwarded-For only from a trusted proxy', async () => {
    const setup = (plane: Plane) => plane.app.get('/ip', (request) => ({ ip: request.ip }));
    const untrusted = await startPlane({}, { setup });
    const trusted = await startPlane({ trustedProxies: ['127.0.0.1'] }, { setup });
    try {
      const headers = { 'x-forwarded-for': '203.0.113.9' };
      assert.deepEqual(await (await fetch(`${untrusted.url}/ip`, { headers })).json(), { ip: '127.0.0.1' });
      assert.deepEqual(await (await fetch(`${trusted.url}/ip`, { headers })).json(), { ip: '203.0.113.9' });
    } finally {
      await untrusted.stop();
      await trusted.stop();
    }
  });
});

describe('plane start-up errors', () => {
  test('names the plane and the option when its port is taken', async () => {
    const first = await startPlane();
    try {
      const port = Number(new URL(first.url).port);
      const dir = tempDir('rampart-plane');
      const config = testConfig(dir.path, { planes: { device: { port } } }).planes.device;
      const plane = await createPlane({ name: 'device', config, logger: createMemoryLogger().logger, metrics: createMetrics({ defaultMetrics: false }), securityHeaders: false });
      await assert.rejects(plane.listen(), (e: unknown) => {
        assert.ok(e instanceof RampartError);
        assert.equal(e.code, 'lifecycle.listen_failed');
        assert.match(e.message, new RegExp(`planes\\.device: cannot listen on 127\\.0\\.0\\.1:${port}: another process already uses this port \\(EADDRINUSE\\); change planes\\.device\\.host or planes\\.device\\.port`));
        return true;
      });
      dir.cleanup();
    } finally {
      await first.stop();
    }
  });

  test('refuses an unusable TLS certificate at start-up, naming the option', async () => {
    const dir = tempDir('rampart-cert');
    try {
      const cert = await selfSignedCertificate(dir.path);
      writeFileSync(cert.keyFile, '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n');
      const config = testConfig(dir.path, { planes: { app: { tls: { certFile: cert.certFile, keyFile: cert.keyFile, minVersion: 'TLSv1.2' } } } }).planes.app;
      await assert.rejects(
        createPlane({ name: 'app', config, logger: createMemoryLogger().logger, metrics: createMetrics({ defaultMetrics: false }), securityHeaders: { imageSources: [] } }),
        (e: unknown) => e instanceof ConfigError && e.code === 'config.invalid' && /planes\.app\.tls: cannot use/.test(e.message),
      );
    } finally {
      dir.cleanup();
    }
  });
});

describe('plane transport', () => {
  test('serves TLS 1.2+ and refuses older protocol versions', async () => {
    const dir = tempDir('rampart-cert');
    const cert = await selfSignedCertificate(dir.path);
    const started = await startPlane({ tls: { certFile: cert.certFile, keyFile: cert.keyFile, minVersion: 'TLSv1.2' } }, { setup: (plane) => registerHealthRoutes(plane, { checkDatabase: () => Promise.resolve() }) });
    try {
      assert.match(started.url, /^https:\/\//);
      const dispatcher = new Agent({ connect: { ca: cert.certPem } });
      const response = await fetch(`${started.url}/healthz`, { dispatcher });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('strict-transport-security') ?? '', /max-age=31536000/);
      assert.match(response.headers.get('content-security-policy') ?? '', /upgrade-insecure-requests/);
      await dispatcher.close();
      const { port } = new URL(started.url);
      const old = await new Promise<string>((resolve) => {
        const socket = connectTls({ host: '127.0.0.1', port: Number(port), ca: cert.certPem, minVersion: 'TLSv1', maxVersion: 'TLSv1.1' });
        socket.on('secureConnect', () => resolve('connected'));
        socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      });
      assert.notEqual(old, 'connected');
    } finally {
      await started.stop();
      dir.cleanup();
    }
  });

  test('drops a client that sends its headers too slowly', async () => {
    const started = await startPlane({ timeouts: { headersMs: 1000, requestMs: 1000 } });
    try {
      // The configured bound, not Node's default, is the one the server enforces.
      assert.equal(started.plane.app.server.headersTimeout, 1000);
      const result = await rawExchange(started.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\n');
      assert.match(result.data, /^HTTP\/1\.1 408/, 'the server answered 408');
      assert.equal(result.error, undefined, 'and closed the connection itself');
    } finally {
      await started.stop();
    }
  });

  test('finishes in-flight requests on close, turns away new requests, and refuses new connections', async () => {
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const started = await startPlane({}, {
      setup: (plane) =>
        plane.app.get('/slow', async () => {
          entered();
          await gate;
          return { done: true };
        }),
    });
    const inFlight = fetch(`${started.url}/slow`);
    await inHandler;
    const closing = started.plane.close(5_000);
    const during = await started.plane.app.inject({ url: '/slow' });
    assert.equal(during.statusCode, 503, 'a request arriving while draining is turned away');
    assert.equal(during.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal((JSON.parse(during.body) as { code: string }).code, 'service.unavailable');
    assert.equal(during.headers['connection'], 'close');
    release();
    const response = await inFlight;
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { done: true });
    await closing;
    await assert.rejects(fetch(`${started.url}/slow`));
  });

  test('cuts requests still running when the drain timeout passes', async () => {
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const started = await startPlane({}, {
      setup: (plane) =>
        plane.app.get('/stuck', async () => {
          entered();
          await gate;
          return {};
        }),
    });
    try {
      const stuck = fetch(`${started.url}/stuck`).then(
        (r) => r.status,
        () => 'cut',
      );
      await inHandler;
      // The handler is held until the end: close() can only return because the drain timeout cut it.
      await started.plane.close(200);
      assert.equal(await stuck, 'cut');
    } finally {
      release();
    }
  });
});
