// Per-source state held in memory and bounded, so that a spray of addresses
// cannot grow it without limit: when it holds more than `max` sources, the
// stalest go first. "Stalest" is the least recently stored: every `store`
// moves its source to the fresh end (a Map keeps insertion order).

/** Enough for every address of a busy public page or device plane. */
export const DEFAULT_MAX_SOURCES = 100_000;

export class SourceTable<State> {
  readonly #max: number;
  readonly #entries = new Map<string, State>();

  constructor(max: number = DEFAULT_MAX_SOURCES) {
    this.#max = max;
  }

  get(source: string): State | undefined {
    return this.#entries.get(source);
  }

  /** Stores the source's state as the freshest entry, then forgets the stalest beyond the bound. */
  store(source: string, state: State): void {
    this.#entries.delete(source);
    this.#entries.set(source, state);
    while (this.#entries.size > this.#max) {
      const stalest = this.#entries.keys().next();
      if (stalest.done === true) return;
      this.#entries.delete(stalest.value);
    }
  }

  delete(source: string): void {
    this.#entries.delete(source);
  }

  get size(): number {
    return this.#entries.size;
  }
}
