import { RampartError } from '../kernel/errors.ts';
import type { AuthFailureReason } from './auth.ts';

/**
 * A device failed authentication. Clients only ever see `device.unauthorized`;
 * `reason` is for security events, logs and metrics.
 */
export class DeviceAuthError extends RampartError {
  readonly reason: AuthFailureReason;

  constructor(reason: AuthFailureReason, message: string) {
    super('device.unauthorized', `${reason}: ${message}`);
    this.reason = reason;
  }
}
