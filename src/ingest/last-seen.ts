import type { Clock } from '../kernel/clock.ts';
import type { Logger } from '../kernel/logger.ts';

// A device's last-seen time is written at most once per interval: a device
// sending ten events a second must not cost ten database writes a second.
// Writes happen off the request path; a failed one is logged and retried at
// the next event.

export interface LastSeenStore {
  touch(deviceId: string): Promise<unknown>;
}

export interface LastSeenOptions {
  readonly store: LastSeenStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly intervalMs?: number;
  readonly maxDevices?: number;
}

export interface LastSeenRecorder {
  seen(deviceId: string): void;
  /** Resolves when the writes in flight have settled. */
  settle(): Promise<void>;
}

export function createLastSeenRecorder(options: LastSeenOptions): LastSeenRecorder {
  const { store, clock, logger } = options;
  const intervalMs = options.intervalMs ?? 60_000;
  const maxDevices = options.maxDevices ?? 100_000;
  const touched = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();
  return {
    seen(deviceId) {
      const now = clock.now().getTime();
      const last = touched.get(deviceId);
      if (last !== undefined && now - last < intervalMs && now >= last) return;
      if (touched.size >= maxDevices) touched.clear();
      touched.set(deviceId, now);
      const write = store
        .touch(deviceId)
        .then(() => undefined)
        .catch((error: unknown) => {
          touched.delete(deviceId);
          logger.warn({ err: error, deviceId }, 'could not record device last-seen time');
        })
        .finally(() => inFlight.delete(write));
      inFlight.add(write);
    },
    async settle() {
      await Promise.all([...inFlight]);
    },
  };
}
