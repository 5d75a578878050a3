import type { Clock } from '../../kernel/clock.ts';

// Per source address, in memory: at most `limit` requests in each fixed
// window of `windowSeconds`. Written here rather than taken from a rate-limit
// plugin because it guards one public route, reads the injected clock (tests
// freeze it) and must not install a plane-wide plugin other features share.
// The table is bounded like the ingest throttle: when full, the stalest go.

export interface RateLimitOptions {
  readonly clock: Clock;
  readonly limit: number;
  readonly windowSeconds: number;
  readonly maxSources?: number;
}

interface Window {
  startedMs: number;
  count: number;
}

export class SourceRateLimit {
  readonly #clock: Clock;
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #maxSources: number;
  readonly #sources = new Map<string, Window>();

  constructor(options: RateLimitOptions) {
    this.#clock = options.clock;
    this.#limit = options.limit;
    this.#windowMs = options.windowSeconds * 1000;
    this.#maxSources = options.maxSources ?? 100_000;
  }

  /** Counts a request; returns 0 when it may proceed, else the seconds until the window ends (for `Retry-After`). */
  take(source: string): number {
    const now = this.#clock.now().getTime();
    let window = this.#sources.get(source);
    if (window === undefined || now - window.startedMs >= this.#windowMs) {
      this.#sources.delete(source);
      window = { startedMs: now, count: 0 };
      this.#sources.set(source, window);
      while (this.#sources.size > this.#maxSources) {
        const stalest = this.#sources.keys().next();
        if (stalest.done === true) break;
        this.#sources.delete(stalest.value);
      }
    }
    window.count += 1;
    if (window.count <= this.#limit) return 0;
    return Math.max(1, Math.ceil((window.startedMs + this.#windowMs - now) / 1000));
  }

  get size(): number {
    return this.#sources.size;
  }
}
