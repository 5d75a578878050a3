import 'reflect-metadata'; // required by @peculiar/x509's dependency injection
import { webcrypto } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import * as x509 from '@peculiar/x509';
import type { ShipmentEventType, ShipmentWebhookEvent } from '../../src/delivery/webhooks/index.ts';
import type { Clock } from '../../src/kernel/clock.ts';
import { within } from './wait.ts';

// Webhook receivers on loopback that record every request and answer with
// scripted statuses, TLS certificates for made-up host names, and synthetic
// shipment events.

export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  /** The TLS server name (SNI) the client sent, on TLS receivers. */
  readonly serverName: string | undefined;
}

export interface Receiver {
  /** `http(s)://127.0.0.1:<port>` */
  readonly origin: string;
  readonly port: number;
  readonly requests: ReceivedRequest[];
  /** Statuses to answer with, in order; once used up, `fallback`. */
  script(statuses: number[], fallback?: number): void;
  /** Resolves when at least `count` requests arrived (or rejects after `withinMs`). */
  waitFor(count: number, withinMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface ReceiverOptions {
  /** Serve TLS with this certificate and key (PEM). */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** Custom answer; the default answers the scripted status with an empty body. */
  readonly respond?: (req: http.IncomingMessage, res: http.ServerResponse, status: number) => void;
}

export async function startReceiver(options: ReceiverOptions = {}): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const arrivals = new EventEmitter();
  let queue: number[] = [];
  let fallback = 200;
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const sni = (req.socket as Partial<TLSSocket>).servername;
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks), serverName: typeof sni === 'string' ? sni : undefined });
      arrivals.emit('request');
      const status = queue.shift() ?? fallback;
      if (options.respond !== undefined) options.respond(req, res, status);
      else res.writeHead(status).end();
    });
  };
  const server = options.tls === undefined ? http.createServer(handler) : https.createServer({ cert: options.tls.cert, key: options.tls.key }, handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    port,
    requests,
    script(statuses, otherwise = 200) {
      queue = [...statuses];
      fallback = otherwise;
    },
    async waitFor(count, withinMs = 10_000) {
      if (requests.length >= count) return;
      let onRequest = (): void => undefined;
      const arrived = new Promise<void>((resolve) => {
        onRequest = () => {
          if (requests.length >= count) resolve();
        };
        arrivals.on('request', onRequest);
      });
      try {
        await within(arrived, withinMs, () => `receiver got ${requests.length} of ${count} requests within ${withinMs} ms`);
      } finally {
        arrivals.off('request', onRequest);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A self-signed certificate (PEM) for `dnsName` only: a TLS client must name that host to accept it. */
export async function certificateFor(dnsName: string): Promise<{ cert: string; key: string }> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Date.now().toString(16),
    name: `CN=${dnsName}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: dnsName }]), new x509.BasicConstraintsExtension(false, undefined, true)],
  });
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return { cert: cert.toString('pem'), key: `-----BEGIN PRIVATE KEY-----\n${der}\n-----END PRIVATE KEY-----\n` };
}

/** Synthetic shipment events: each call a new shipment, numbered. */
export function shipmentEvents(clock: Clock) {
  let n = 0;
  return (type: ShipmentEventType = 'shipment.created', overrides: Partial<ShipmentWebhookEvent['shipment']> = {}): ShipmentWebhookEvent => {
    n += 1;
    const start = new Date(clock.now().getTime() + 3_600_000);
    return {
      type,
      occurredAt: clock.now().toISOString(),
      shipment: {
        id: `shp_${String(n).padStart(4, '0')}`,
        trackingNumber: `RMP${String(100_000 + n)}`,
        status: type.slice('shipment.'.length),
        depot: 'north',
        timeWindow: { start: start.toISOString(), end: new Date(start.getTime() + 7_200_000).toISOString() },
        reason: type === 'shipment.failed' ? 'recipient_absent' : null,
        ...overrides,
      },
    };
  };
}
