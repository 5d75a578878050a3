import type { RampartConfig } from '../config/schema.ts';
import type { Clock } from '../kernel/clock.ts';
import { SourceTable } from './source-table.ts';

// Per source (an address, or an account), in memory: at most `requests` in
// each fixed window of `windowSeconds`, as configured under
// `perimeter.rateLimits`. Hand-written rather than a rate-limit plugin: it is
// a few lines, reads the injected clock (tests freeze it), and guards single
// routes without installing a plane-wide plugin other features share; the
// perimeter work may still choose a library. The table is bounded like the
// authentication throttle's (`SourceTable`).

/** One route class's limit, exactly as configured. */
export type RateLimitSettings = RampartConfig['perimeter']['rateLimits'][keyof RampartConfig['perimeter']['rateLimits']];

export interface RateLimitOptions {
  readonly clock: Clock;
  readonly limit: RateLimitSettings;
  /** Tests shrink the table to see the bound work. */
  readonly maxSources?: number;
}

interface Window {
  startedMs: number;
  count: number;
}

export class SourceRateLimit {
  readonly #clock: Clock;
  readonly #requests: number;
  readonly #windowMs: number;
  readonly #sources: SourceTable<Window>;

  constructor(options: RateLimitOptions) {
    this.#clock = options.clock;
    this.#requests = options.limit.requests;
    this.#windowMs = options.limit.windowSeconds * 1000;
    this.#sources = new SourceTable(options.maxSources);
  }

  /** Counts a request; returns 0 when it may proceed, else the seconds until the window ends (for `Retry-After`). */
  take(source: string): number {
    const now = this.#clock.now().getTime();
    let window = this.#sources.get(source);
    if (window === undefined || now - window.startedMs >= this.#windowMs) {
      window = { startedMs: now, count: 0 };
      this.#sources.store(source, window);
    }
    window.count += 1;
    if (window.count <= this.#requests) return 0;
    return Math.max(1, Math.ceil((window.startedMs + this.#windowMs - now) / 1000));
  }

  get size(): number {
    return this.#sources.size;
  }
}
