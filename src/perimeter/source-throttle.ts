import type { Clock } from '../kernel/clock.ts';
import { SourceTable } from './source-table.ts';

// Per source address, in memory: after `failuresPerSource` authentication
// failures the address is refused for `throttleSeconds`, before any
// authentication work is done for it. A quiet period of `throttleSeconds`
// forgives earlier failures. The table is bounded (`SourceTable`); every
// failure refreshes its source, so the stalest go first.

export interface SourceThrottleOptions {
  readonly clock: Clock;
  readonly failuresPerSource: number;
  readonly throttleSeconds: number;
  /** Most addresses tracked at once. */
  readonly maxSources?: number;
}

interface SourceState {
  failures: number;
  lastFailureMs: number;
  blockedUntilMs: number;
}

export class SourceThrottle {
  readonly #clock: Clock;
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #sources: SourceTable<SourceState>;

  constructor(options: SourceThrottleOptions) {
    this.#clock = options.clock;
    this.#limit = options.failuresPerSource;
    this.#windowMs = options.throttleSeconds * 1000;
    this.#sources = new SourceTable(options.maxSources);
  }

  /** Seconds the source must wait (for `Retry-After`), or 0 when it may try. */
  retryAfter(source: string): number {
    const state = this.#sources.get(source);
    if (state === undefined) return 0;
    const now = this.#clock.now().getTime();
    if (state.blockedUntilMs > now) return Math.max(1, Math.ceil((state.blockedUntilMs - now) / 1000));
    if (state.blockedUntilMs !== 0 || now - state.lastFailureMs >= this.#windowMs) this.#sources.delete(source);
    return 0;
  }

  /** Counts a failure; true when this failure starts a block. */
  recordFailure(source: string): boolean {
    const now = this.#clock.now().getTime();
    let state = this.#sources.get(source);
    if (state !== undefined && (state.blockedUntilMs !== 0 ? state.blockedUntilMs <= now : now - state.lastFailureMs >= this.#windowMs)) state = undefined;
    state ??= { failures: 0, lastFailureMs: now, blockedUntilMs: 0 };
    state.failures += 1;
    state.lastFailureMs = now;
    this.#sources.store(source, state);
    if (state.blockedUntilMs === 0 && state.failures >= this.#limit) {
      state.blockedUntilMs = now + this.#windowMs;
      return true;
    }
    return false;
  }

  get size(): number {
    return this.#sources.size;
  }
}
