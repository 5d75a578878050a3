import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { createSecureContext, TLSSocket } from 'node:tls';
import { ConfigError, RampartError } from '../kernel/errors.ts';

// What every listener (the HTTP planes, the MQTT device listener) does the same
// way: read its TLS material, turn a failed listen into an error naming the
// option to change, and read a device's client certificate off the socket.

/** The certificate and key files of a TLS listener, as configured. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/**
 * Reads and parses a listener's certificate and key now, so a bad file is a
 * start-up error naming the option (`option`, e.g. `mqtt.tls`) rather than a
 * failed handshake later.
 */
export function loadTlsMaterial(option: string, tls: TlsFiles): TlsMaterial {
  try {
    const material = { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) };
    createSecureContext(material);
    return material;
  } catch (error) {
    throw new ConfigError('config.invalid', [`${option}: cannot use ${tls.certFile} and ${tls.keyFile}: ${(error as Error).message}`], { cause: error });
  }
}

const LISTEN_FAILURES: Readonly<Record<string, string>> = {
  EADDRINUSE: 'another process already uses this port',
  EADDRNOTAVAIL: 'this machine has no such address',
  EACCES: 'ports below 1024 need privileges Rampart should not have',
};

/**
 * The error for a listen that failed: what could not listen where, why in
 * words an operator can act on, and which options to change (`option`, e.g.
 * `planes.device` or `mqtt`).
 */
export function listenFailed(option: string, host: string, port: number, error: unknown): RampartError {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  const reason = LISTEN_FAILURES[code] ?? (error as Error).message;
  return new RampartError('lifecycle.listen_failed', `${option}: cannot listen on ${host}:${port}: ${reason} (${code}); change ${option}.host or ${option}.port`, { cause: error });
}

/** A device's TLS client certificate, as the authenticator checks it. */
export interface ClientCertificate {
  /** SHA-256 thumbprint, lower-case hex without separators. */
  readonly thumbprint: string;
  /** Unix seconds. */
  readonly notAfter: number;
}

/**
 * The client certificate of a TLS socket that chained to the configured device
 * CA (the TLS layer checked the chain and validity dates); undefined for a
 * plain socket or one without such a certificate.
 */
export function clientCertificateOf(socket: Socket): ClientCertificate | undefined {
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
  const peer = socket.getPeerCertificate();
  if (typeof peer.fingerprint256 !== 'string' || peer.fingerprint256 === '') return undefined;
  return { thumbprint: peer.fingerprint256.replaceAll(':', '').toLowerCase(), notAfter: Math.floor(Date.parse(peer.valid_to) / 1000) };
}
