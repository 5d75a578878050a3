import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import Fastify, { LogController, type FastifyInstance, type RawServerDefault } from 'fastify';
import helmet from '@fastify/helmet';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { PlaneConfig, PlaneName } from '../config/schema.ts';
import { lazyChild, type Logger } from '../kernel/logger.ts';
import { isRampartError, RampartError } from '../kernel/errors.ts';
import type { Metrics } from '../kernel/metrics.ts';
import { createAddressMatcher } from './cidr.ts';
import { listenFailed, loadTlsMaterial } from './listen.ts';
import { PROBLEM_CONTENT_TYPE, problemFor, toProblem } from './problem.ts';

export type PlaneApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger, TypeBoxTypeProvider>;

export interface PlaneOptions {
  readonly name: PlaneName;
  readonly config: PlaneConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /**
   * Browser-facing security headers (CSP, HSTS, frame denial…) via helmet, or
   * false for planes no browser uses. `imageSources` are origins beyond 'self'
   * that pages may load images from (the configured map tiles).
   */
  readonly securityHeaders: false | { readonly imageSources: readonly string[] };
  /**
   * CA bundle for client certificates (the device plane). With it, a TLS plane
   * asks every client for a certificate but does not insist: routes decide from
   * `socket.authorized` whether one that chains to this CA was presented.
   */
  readonly clientCa?: Buffer;
  /**
   * Log successful requests at debug instead of info (the device plane: a fleet's
   * every accepted event would otherwise be a log line). Refusals are still logged.
   */
  readonly quietSuccess?: boolean;
}

export interface Plane {
  readonly name: PlaneName;
  readonly app: PlaneApp;
  /** Starts listening; resolves with the plane's URL. */
  listen(): Promise<string>;
  /** Stops accepting, lets in-flight requests finish for up to `drainMs`, then cuts what remains. */
  close(drainMs: number): Promise<void>;
  readonly draining: boolean;
}

function buildServer(name: PlaneName, config: PlaneConfig, clientCa: Buffer | undefined, handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const timeouts = config.timeouts;
  const options = {
    headersTimeout: timeouts.headersMs,
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    // How often Node checks the two timeouts above; the default (30 s) would let a slow client linger.
    connectionsCheckingInterval: Math.min(1_000, Math.floor(timeouts.headersMs / 2)),
    maxHeaderSize: 16 * 1024,
  };
  const server = config.tls === undefined
    ? createHttpServer(options, handler)
    : createHttpsServer({ ...options, ...loadTlsMaterial(`planes.${name}.tls`, config.tls), minVersion: config.tls.minVersion, ...(clientCa === undefined ? {} : { ca: clientCa, requestCert: true, rejectUnauthorized: false }) }, handler);
  server.setTimeout(timeouts.idleMs);
  return server;
}

/**
 * One listener with its own allow-list, limits and timeouts. Connections from
 * addresses outside the allow-list are destroyed on arrival — before TLS and
 * before any HTTP parsing — and logged.
 */
export async function createPlane(options: PlaneOptions): Promise<Plane> {
  const { name, config, metrics } = options;
  const logger = options.logger.child({ plane: name });
  const allowed = createAddressMatcher(config.allow);
  let draining = false;

  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    // Route-level log options (none today) need a real child at once. The lazy
    // logger offers every method Fastify and our hooks call, without being a pino instance.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- see lazyChild
    childLoggerFactory: (parent, bindings, options) => (Object.keys(options).length > 0 ? parent.child(bindings, options) : lazyChild(parent as Logger, bindings)),
    serverFactory: (handler) => {
      const server = buildServer(name, config, options.clientCa, handler);
      server.prependListener('connection', (socket: Socket) => {
        if (allowed(socket.remoteAddress)) return;
        metrics.connectionsRefused.inc({ plane: name, reason: 'allow-list' });
        logger.warn({ remoteAddress: socket.remoteAddress, remotePort: socket.remotePort }, 'connection refused by allow-list');
        socket.destroy();
      });
      return server;
    },
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustedProxies.length > 0 ? [...config.trustedProxies] : false,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // Draining is answered by our own hook below, as a problem document like every other error.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    routerOptions: { maxParamLength: 200 },
    // Unknown properties are errors (never silently dropped); query strings are coerced to their declared types.
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  if (options.securityHeaders !== false) {
    // HTTPS-only headers where clients arrive over HTTPS (TLS here, or at a declared proxy);
    // on a plain loopback plane they would break the page.
    const https = config.tls !== undefined || config.trustedProxies.length > 0;
    await app.register(helmet, {
      // Every directive written out (helmet's defaults allow inline styles and
      // any https: style or font): scripts, styles and fonts only from this
      // origin, no inline code of any kind, no plugins, never framed.
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          scriptSrcAttr: ["'none'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:', 'blob:', ...options.securityHeaders.imageSources],
          fontSrc: ["'self'"],
          connectSrc: ["'self'"],
          workerSrc: ["'self'"],
          manifestSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          objectSrc: ["'none'"],
          baseUri: ["'self'"],
          upgradeInsecureRequests: https ? [] : null,
        },
      },
      hsts: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    });
  }

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('cache-control', 'no-store');
    if (draining) throw new RampartError('service.unavailable', 'plane is draining for shutdown', { publicDetail: 'shutting down' });
  });

  // While draining, every response ends its connection, so keep-alive clients let go promptly.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (draining) reply.header('connection', 'close');
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? '(unmatched)';
    metrics.httpRequests.inc({ plane: name, method: request.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ plane: name, method: request.method, route }, reply.elapsedTime / 1000);
    // Path template only: query strings and path parameters can carry tokens or personal data.
    const routine = route === '/healthz' || route === '/readyz' || route === '/metrics' || (options.quietSuccess === true && reply.statusCode < 400);
    const level = routine ? 'debug' : 'info';
    request.log[level]({ method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime), ip: request.ip }, 'request');
  });

  app.setErrorHandler((error, request, reply) => {
    const problem = toProblem(error, request.id);
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: problem.code }, 'request refused');
    if (isRampartError(error) && error.retryAfterSeconds !== undefined) void reply.header('retry-after', String(error.retryAfterSeconds));
    return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
  });

  app.setNotFoundHandler((request, reply) => reply.code(404).type(PROBLEM_CONTENT_TYPE).send(problemFor('route.not_found', request.id)));

  return {
    name,
    app,
    get draining() {
      return draining;
    },
    async listen() {
      try {
        await app.listen({ host: config.host, port: config.port });
      } catch (error) {
        throw listenFailed(`planes.${name}`, config.host, config.port, error);
      }
      const address = app.server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return `${config.tls === undefined ? 'http' : 'https'}://${host}:${address.port}`;
    },
    async close(drainMs: number) {
      draining = true;
      const timer = setTimeout(() => {
        logger.warn('drain timeout reached: closing remaining connections');
        app.server.closeAllConnections();
      }, drainMs);
      try {
        await app.close();
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
