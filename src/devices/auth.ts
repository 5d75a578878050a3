// The device-authentication port the ingest front ends use (HTTP on the device
// plane, MQTT). Implemented by devices/authenticator.ts over the registry.

export type KeyEncoding =
  /** Event Hubs convention: the HMAC key is the UTF-8 bytes of the key string. */
  | 'utf8'
  /** IoT Hub convention: the HMAC key is the base64-decoded key. Accepted on MQTT only. */
  | 'base64';

export interface AuthenticatedDevice {
  readonly id: string;
  readonly kind: 'drone' | 'truck';
  readonly depot: string;
  /** Which key or credential proved it: `primary`, `secondary` or `certificate`. */
  readonly credential: 'primary' | 'secondary' | 'certificate';
  /** Unix seconds when the token expires (certificates: the certificate's notAfter). */
  readonly expiresAt: number;
  /** The registry revision this was checked against; a later revision means re-check. */
  readonly revision: number;
}

/** Why authentication failed, for security events and metrics (never shown to the client). */
export type AuthFailureReason =
  | 'malformed'
  | 'expired'
  | 'lifetime_too_long'
  | 'wrong_resource'
  | 'unknown_device'
  | 'disabled'
  | 'bad_signature'
  | 'unknown_certificate';

export interface DeviceAuthenticator {
  /**
   * Verifies a SAS token presented for `resource` — the path the device is
   * acting on, e.g. `drone-telemetry/publishers/d1` (HTTP) or `devices/d1`
   * (MQTT), without host. The token's `sr` must name a configured host and a
   * path that covers `resource` by whole segments. Throws
   * RampartError('device.unauthorized') carrying an AuthFailureReason in
   * `reason` (see DeviceAuthError). With `requireKeyName` (the Event Hubs
   * form), a token without `skn` is refused as malformed.
   */
  verifySas(token: string, resource: string, options: { readonly deviceId: string; readonly keyEncodings: readonly KeyEncoding[]; readonly requireKeyName?: boolean }): Promise<AuthenticatedDevice>;
  /** A TLS client certificate's SHA-256 thumbprint (lower-case hex) registered to `deviceId`. */
  verifyCertificate(deviceId: string, thumbprint: string, notAfter: number): Promise<AuthenticatedDevice>;
  /** Still allowed? (device enabled, same or compatible revision, not expired). Cheap: answered from memory. */
  stillValid(device: AuthenticatedDevice): boolean;
  /** Called within 1 s of a device being disabled, its keys rotated or its certificates changed. */
  onRevoked(listener: (deviceId: string) => void): () => void;
}
