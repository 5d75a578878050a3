import { randomInt } from 'node:crypto';
import type { RampartConfig } from '../../config/schema.ts';
import type { Keyring } from '../../crypto/keyring.ts';
import type { Clock } from '../../kernel/clock.ts';
import { isRampartError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { Db } from '../../storage/database.ts';
import { claimDelivery, dueDeliveries, loadClaimed, recordOutcome, type AttemptOutcome, type ClaimedDelivery } from './deliveries.store.ts';
import { webhookHeaders } from './signing.ts';
import { DestinationGuard, DestinationRefused, type Resolver } from './ssrf.ts';
import { createHttpSender, type WebhookSender } from './transport.ts';

// The background sender. Each poll claims a bounded batch of due deliveries
// (oldest first), attempts them side by side, and records each outcome: 2xx
// delivered; anything else retried after an exponential backoff with CSPRNG
// jitter, until `maxAttempts`, then failed. A destination the guard refuses
// fails at once: probing an internal address again later helps no one.

export type WebhookSettings = RampartConfig['webhooks'];

export interface WebhookDispatcherOptions {
  readonly db: Db;
  readonly keyring: Pick<Keyring, 'decryptFieldText'>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly settings: WebhookSettings;
  /** Host name resolution (default: the operating system's). */
  readonly resolver?: Resolver;
  /** Outbound HTTP (default: node:http with the vetted address pinned). */
  readonly send?: WebhookSender;
  /** Deliveries claimed per poll (default 20). */
  readonly batchSize?: number;
}

export interface DispatchReport {
  readonly claimed: number;
  readonly delivered: number;
  readonly retried: number;
  readonly failed: number;
}

/** A claimed row's next attempt is pushed this far past the send deadline: a crash mid-send delays it by no more. */
const LEASE_MARGIN_MS = 30_000;
const DEFAULT_BATCH = 20;
/** Polls that find a full batch go round again at once, up to this many times. */
const MAX_ROUNDS = 10;

/**
 * The wait before attempt `attempt + 1`: base·2^(attempt−1), capped, of which
 * the upper half is random (CSPRNG) so receivers recovering from an outage
 * are not hit by every sender at the same instant.
 */
export function backoffDelayMs(attempt: number, settings: Pick<WebhookSettings, 'baseBackoffSeconds' | 'maxBackoffSeconds'>, random: (maxExclusive: number) => number = (max) => randomInt(max)): number {
  const capped = Math.min(settings.maxBackoffSeconds * 1000, settings.baseBackoffSeconds * 1000 * 2 ** Math.min(attempt - 1, 40));
  const half = Math.floor(capped / 2);
  return capped - half + random(half + 1);
}

function describe(error: unknown): string {
  // A catalogue error's message already names the problem; its code is not a system error code.
  if (isRampartError(error)) return error.message;
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code !== undefined && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

export class WebhookDispatcher {
  readonly #options: WebhookDispatcherOptions;
  readonly #guard: DestinationGuard;
  readonly #send: WebhookSender;
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;

  constructor(options: WebhookDispatcherOptions) {
    this.#options = options;
    this.#guard = new DestinationGuard(options.settings, options.resolver);
    this.#send = options.send ?? createHttpSender();
  }

  /** Polls every `pollIntervalMs` (unref'd timer); a poll still running when the next is due is not doubled. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      if (this.#inFlight !== undefined) return;
      this.#inFlight = this.#rounds()
        .catch((error: unknown) => this.#options.logger.error({ err: error }, 'webhook dispatch failed; will retry'))
        .finally(() => {
          this.#inFlight = undefined;
        });
    }, this.#options.settings.pollIntervalMs);
    this.#timer.unref();
  }

  /** Stops polling, aborts attempts in progress (they are rescheduled) and waits for the poll to finish. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#abort.abort();
    await this.#inFlight;
  }

  async #rounds(): Promise<void> {
    const batch = this.#options.batchSize ?? DEFAULT_BATCH;
    for (let round = 0; round < MAX_ROUNDS && !this.#abort.signal.aborted; round++) {
      const report = await this.runOnce();
      if (report.claimed < batch) return;
    }
  }

  /** One poll: claims the due deliveries (up to the batch size), attempts them and records the outcomes. */
  async runOnce(): Promise<DispatchReport> {
    const { db, clock, settings } = this.#options;
    const now = clock.now();
    const nowIso = now.toISOString();
    const leaseUntil = new Date(now.getTime() + settings.timeoutMs + LEASE_MARGIN_MS).toISOString();
    const due = await dueDeliveries(db, nowIso, this.#options.batchSize ?? DEFAULT_BATCH);
    const claimed: string[] = [];
    for (const row of due) {
      if (await claimDelivery(db, row.id, row.attempts, nowIso, leaseUntil)) claimed.push(row.id);
    }
    const deliveries = await loadClaimed(db, claimed);
    const outcomes = await Promise.all(deliveries.map((d) => this.#attempt(d)));
    return {
      claimed: claimed.length,
      delivered: outcomes.filter((o) => o === 'delivered').length,
      retried: outcomes.filter((o) => o === 'retry').length,
      failed: outcomes.filter((o) => o === 'failed').length,
    };
  }

  async #attempt(delivery: ClaimedDelivery): Promise<AttemptOutcome['kind']> {
    const { clock, settings, logger } = this.#options;
    const log = { delivery: delivery.id, endpoint: delivery.endpointId, attempt: delivery.attempts };
    let outcome: AttemptOutcome;
    try {
      const response = await this.#post(delivery);
      const at = clock.now().toISOString();
      if (response.status >= 200 && response.status < 300) {
        outcome = { kind: 'delivered', statusCode: response.status, at };
      } else {
        const error = response.status >= 300 && response.status < 400 ? `HTTP ${response.status} (redirects are not followed; update the endpoint's URL)` : `HTTP ${response.status}`;
        // 410 Gone: the receiver says it wants no more of these.
        outcome = response.status === 410 ? { kind: 'failed', statusCode: response.status, error, at } : this.#retryOrFail(delivery.attempts, response.status, error, response.retryAfterSeconds);
      }
    } catch (error) {
      const at = clock.now().toISOString();
      if (error instanceof DestinationRefused) {
        logger.warn({ ...log, reason: error.message }, 'webhook destination refused');
        outcome = { kind: 'failed', statusCode: null, error: `refused: ${error.message}`, at };
      } else if (error instanceof EndpointDisabled) {
        outcome = { kind: 'failed', statusCode: null, error: error.message, at };
      } else if (this.#abort.signal.aborted) {
        // Shutting down: the attempt is not the receiver's fault; due again at the next start.
        outcome = { kind: 'retry', statusCode: null, error: describe(error), at, nextAttemptAt: at };
      } else {
        outcome = this.#retryOrFail(delivery.attempts, null, describe(error), undefined);
      }
    }
    const recorded = await recordOutcome(this.#options.db, delivery.id, delivery.attempts, outcome);
    if (!recorded) logger.warn(log, 'webhook delivery changed during its attempt; outcome not recorded');
    else if (outcome.kind !== 'delivered') logger.info({ ...log, outcome: outcome.kind, statusCode: outcome.statusCode, error: outcome.error, maxAttempts: settings.maxAttempts }, 'webhook attempt failed');
    return outcome.kind;
  }

  async #post(delivery: ClaimedDelivery) {
    const { keyring, clock, settings } = this.#options;
    if (delivery.endpointStatus !== 'enabled') throw new EndpointDisabled();
    const destination = await this.#guard.resolve(delivery.url);
    const secret = await keyring.decryptFieldText({ table: 'webhook_endpoints', column: 'secret', rowId: delivery.endpointId }, delivery.secret);
    const timestamp = Math.floor(clock.now().getTime() / 1000);
    return this.#send({
      destination,
      headers: webhookHeaders({ id: delivery.id, timestamp, body: delivery.payload }, secret),
      body: delivery.payload,
      timeoutMs: settings.timeoutMs,
      maxResponseBytes: settings.maxResponseBytes,
      signal: this.#abort.signal,
    });
  }

  #retryOrFail(attempt: number, statusCode: number | null, error: string, retryAfterSeconds: number | undefined): AttemptOutcome {
    const { clock, settings } = this.#options;
    const now = clock.now();
    if (attempt >= settings.maxAttempts) return { kind: 'failed', statusCode, error: `${error}; gave up after ${attempt} attempts`, at: now.toISOString() };
    let delay = backoffDelayMs(attempt, settings);
    if (retryAfterSeconds !== undefined) delay = Math.max(delay, Math.min(retryAfterSeconds, settings.maxBackoffSeconds) * 1000);
    return { kind: 'retry', statusCode, error, at: now.toISOString(), nextAttemptAt: new Date(now.getTime() + delay).toISOString() };
  }
}

class EndpointDisabled extends Error {
  constructor() {
    super('the endpoint is disabled');
  }
}
