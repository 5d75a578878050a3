import type { Client } from 'aedes';
import type { AuthenticatedDevice, DeviceAuthenticator } from '../../devices/auth.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { Metrics } from '../../kernel/metrics.ts';
import type { MqttConnection } from './bridge.ts';
import { PROTOCOL } from './connect.ts';
import { REASON } from './v5.ts';

// The authenticated MQTT sessions, by broker client and by device. A session
// lasts while its credentials do: token expiry, revocation and takeover by a
// newer connection of the same device all end it.

export interface Session {
  readonly client: Client;
  readonly connection: MqttConnection;
  readonly device: AuthenticatedDevice;
  expiryTimer: NodeJS.Timeout | undefined;
}

export interface SessionTableDeps {
  readonly authenticator: DeviceAuthenticator;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
}

const MAX_TIMER_MS = 2_147_483_647;

export class SessionTable {
  readonly #deps: SessionTableDeps;
  readonly #byClient = new Map<Client, Session>();
  readonly #byDevice = new Map<string, Set<Session>>();
  /** Connections that authenticated (their session may since have ended). */
  readonly #authenticated = new WeakSet<MqttConnection>();

  constructor(deps: SessionTableDeps) {
    this.#deps = deps;
  }

  /** The session of a client, whether or not its credentials still hold. */
  get(client: Client): Session | undefined {
    return this.#byClient.get(client);
  }

  has(client: Client): boolean {
    return this.#byClient.has(client);
  }

  /** Whether a session was ever opened on this connection. */
  authenticated(connection: MqttConnection): boolean {
    return this.#authenticated.has(connection);
  }

  ofDevice(deviceId: string): readonly Session[] {
    return [...(this.#byDevice.get(deviceId) ?? [])];
  }

  /**
   * Opens the session of a client that authenticated. One connection per
   * device: older ones are told they were taken over (the broker closes them
   * when this one registers).
   */
  open(client: Client, connection: MqttConnection, device: AuthenticatedDevice): Session {
    for (const older of this.ofDevice(device.id)) older.connection.sendDisconnect(REASON.sessionTakenOver);
    const session: Session = { client, connection, device, expiryTimer: undefined };
    this.#byClient.set(client, session);
    this.#authenticated.add(connection);
    let set = this.#byDevice.get(device.id);
    if (set === undefined) this.#byDevice.set(device.id, (set = new Set()));
    set.add(session);
    connection.once('close', () => this.#forget(session));
    this.#armExpiry(session);
    return session;
  }

  /** The client's session if its credentials still hold; a session whose credentials lapsed is ended here. */
  current(client: Client | null): Session | undefined {
    const session = client === null ? undefined : this.#byClient.get(client);
    if (session === undefined) return undefined;
    if (this.#deps.authenticator.stillValid(session.device)) return session;
    this.#deps.metrics.ingestRefused.inc({ protocol: PROTOCOL, reason: 'revoked' });
    this.end(session, 'credentials no longer valid', REASON.notAuthorized);
    return undefined;
  }

  end(session: Session, reason: string, reasonCode: number): void {
    this.#deps.logger.info({ deviceId: session.device.id, reason }, 'MQTT session ended by the listener');
    session.connection.sendDisconnect(reasonCode);
    session.client.close();
  }

  /** Ends every session of a device whose credentials were revoked. */
  endDevice(deviceId: string, reason: string): void {
    for (const session of this.ofDevice(deviceId)) this.end(session, reason, REASON.notAuthorized);
  }

  /** Drops every session without ending it (the listener is closing). */
  clear(): void {
    for (const session of [...this.#byClient.values()]) this.#forget(session);
  }

  #forget(session: Session): void {
    clearTimeout(session.expiryTimer);
    this.#byClient.delete(session.client);
    const set = this.#byDevice.get(session.device.id);
    set?.delete(session);
    if (set?.size === 0) this.#byDevice.delete(session.device.id);
  }

  /** Token expiry ends the session even when the device stays silent. */
  #armExpiry(session: Session): void {
    const { authenticator, clock } = this.#deps;
    const delay = Math.min(MAX_TIMER_MS, Math.max(1000, session.device.expiresAt * 1000 - clock.now().getTime()));
    session.expiryTimer = setTimeout(() => {
      if (!this.#byClient.has(session.client)) return;
      if (authenticator.stillValid(session.device)) this.#armExpiry(session);
      else this.end(session, 'credentials no longer valid', REASON.notAuthorized);
    }, delay);
    session.expiryTimer.unref();
  }
}
