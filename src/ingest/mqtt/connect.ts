import ipaddr from 'ipaddr.js';
import type { AuthenticatedDevice, DeviceAuthenticator } from '../../devices/auth.ts';
import type { ClientCertificate } from '../../http/listen.ts';
import { authFailureReason, type DeviceFailureReason } from '../auth-failures.ts';
import type { SourceThrottle } from '../../perimeter/source-throttle.ts';
import { REASON } from './v5.ts';
import { parseUsername } from './topics.ts';

// Who may open an MQTT session: the CONNECT's client id is the device id, the
// username names a configured host and that same device, and the password is
// a SAS token for `<host>/devices/<deviceId>` (IoT Hub device keys are base64,
// so both key encodings are tried). IoT Hub's device-scoped tokens name no key
// (no `skn`), so here, unlike on the device plane, none is required.

export const PROTOCOL = 'mqtt';

/** A connection's source address as the throttle and security events name it. */
export const sourceOf = (address: string | undefined): string => (address !== undefined && ipaddr.isValid(address) ? ipaddr.process(address).toString() : 'unknown');

/** MQTT 3.1.1 CONNACK return codes. */
export const CONNACK = {
  identifierRejected: 2,
  serverUnavailable: 3,
  badUserNameOrPassword: 4,
  notAuthorized: 5,
} as const;

export type ConnectRefusal = {
  readonly ok: false;
  readonly returnCode: (typeof CONNACK)[keyof typeof CONNACK];
  /** The MQTT 5 reason code, which can say more. */
  readonly reasonCode: number;
  /** Recorded as an authentication failure (metric, log, security event, throttle); absent for a throttled source. */
  readonly failure: DeviceFailureReason | undefined;
};

export type ConnectOutcome = { readonly ok: true; readonly device: AuthenticatedDevice } | ConnectRefusal;

export interface ConnectAttempt {
  readonly clientId: string;
  readonly username: string | undefined;
  readonly password: Buffer | undefined;
  readonly source: string;
  /** A certificate that chained to the device CA (X.509 authentication, IoT Hub style: no password). */
  readonly certificate?: ClientCertificate;
}

export interface ConnectPolicy {
  readonly authenticator: DeviceAuthenticator;
  readonly sasHosts: readonly string[];
  readonly throttle: SourceThrottle;
}

const refuse = (returnCode: ConnectRefusal['returnCode'], reasonCode: number, failure: DeviceFailureReason | undefined): ConnectRefusal => ({ ok: false, returnCode, reasonCode, failure });

export async function checkConnect(policy: ConnectPolicy, attempt: ConnectAttempt): Promise<ConnectOutcome> {
  // Before any verification work, so a throttled source costs nothing.
  if (policy.throttle.retryAfter(attempt.source) > 0) return refuse(CONNACK.serverUnavailable, REASON.connectionRateExceeded, undefined);
  const { clientId } = attempt;
  // The broker never assigns ids here: a device names itself.
  if (clientId === '') return refuse(CONNACK.identifierRejected, REASON.clientIdentifierNotValid, 'malformed');
  const password = attempt.password === undefined || attempt.password.length === 0 ? undefined : attempt.password;
  if (attempt.username === undefined || (password === undefined && attempt.certificate === undefined)) {
    return refuse(CONNACK.badUserNameOrPassword, REASON.badUserNameOrPassword, 'missing');
  }
  const username = parseUsername(attempt.username);
  if (username === undefined || !policy.sasHosts.includes(username.host)) return refuse(CONNACK.badUserNameOrPassword, REASON.badUserNameOrPassword, 'malformed');

  let device: AuthenticatedDevice;
  try {
    device =
      password === undefined && attempt.certificate !== undefined
        ? await policy.authenticator.verifyCertificate(clientId, attempt.certificate.thumbprint, attempt.certificate.notAfter)
        : await policy.authenticator.verifySas((password ?? Buffer.alloc(0)).toString('utf8'), `devices/${clientId}`, { deviceId: clientId, keyEncodings: ['base64', 'utf8'] });
  } catch (error) {
    const reason = authFailureReason(error);
    if (reason === undefined) throw error;
    return reason === 'malformed'
      ? refuse(CONNACK.badUserNameOrPassword, REASON.badUserNameOrPassword, reason)
      : refuse(CONNACK.notAuthorized, REASON.notAuthorized, reason);
  }
  // A valid token for the client id, but the username speaks for another device.
  if (device.id !== clientId || username.deviceId !== clientId) return refuse(CONNACK.notAuthorized, REASON.notAuthorized, 'publisher_policy');
  return { ok: true, device };
}
