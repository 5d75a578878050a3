import createClient from 'openapi-fetch';
import type { paths } from './schema.gen.ts';

// The one API client of the console and the driver app: typed from the
// server's OpenAPI document (schema.gen.ts), same-origin cookies only. The
// CSRF token lives in memory for the page's life (never in storage); every
// state-changing request carries it. A failed call throws ApiError built from
// the problem+json body. Two answers are handled here for every screen: a
// session that ended (the sign-in page, then back), and a demand for a recent
// second factor (the step-up prompt, then the same call once more).

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: readonly FieldProblem[];
  /** Seconds from `Retry-After`, when the server sent one. */
  readonly retryAfter: number | undefined;

  constructor(status: number, body: unknown, retryAfter: number | undefined) {
    const problem = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const title = typeof problem['title'] === 'string' ? problem['title'] : `Request failed (${status})`;
    super(title);
    this.name = 'ApiError';
    this.status = status;
    this.code = typeof problem['code'] === 'string' ? problem['code'] : 'unknown';
    this.title = title;
    this.detail = typeof problem['detail'] === 'string' ? problem['detail'] : undefined;
    this.errors = Array.isArray(problem['errors']) ? (problem['errors'] as FieldProblem[]).filter((e) => typeof e.field === 'string' && typeof e.message === 'string') : [];
    this.retryAfter = retryAfter;
  }
}

let csrfToken: string | undefined;

/** Set from the session state the server returns after each sign-in step (and cleared at sign-out). */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

export const client = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
client.use({
  onRequest({ request }) {
    if (!SAFE.has(request.method) && csrfToken !== undefined) request.headers.set('x-csrf-token', csrfToken);
    return request;
  },
});

export interface ApiHooks {
  /** The session ended or never was: go to sign-in, then come back. */
  readonly signedOut: () => void;
  /** The server wants a recent second factor: resolves true once proven, false when the person gives up. */
  readonly stepUp: () => Promise<boolean>;
}

let hooks: ApiHooks = { signedOut: () => undefined, stepUp: () => Promise.resolve(false) };

export function installApiHooks(next: ApiHooks): void {
  hooks = next;
}

interface Outcome<T> {
  readonly data?: T;
  readonly error?: unknown;
  readonly response: Response;
}

function retryAfterOf(response: Response): number | undefined {
  const header = response.headers.get('retry-after');
  if (header === null) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

/**
 * Runs one call and returns its data, or throws ApiError. `quiet` calls (the
 * session probe, sign-in steps) report a missing session to their caller
 * instead of leaving the page.
 */
export async function api<T>(call: () => Promise<Outcome<T>>, options: { quiet?: boolean } = {}): Promise<T> {
  let outcome = await call();
  if (outcome.response.ok) return outcome.data as T;
  let error = new ApiError(outcome.response.status, outcome.error, retryAfterOf(outcome.response));
  if (error.code === 'auth.step_up_required' && (await hooks.stepUp())) {
    outcome = await call();
    if (outcome.response.ok) return outcome.data as T;
    error = new ApiError(outcome.response.status, outcome.error, retryAfterOf(outcome.response));
  }
  if (!options.quiet && (error.code === 'auth.required' || error.code === 'auth.enrolment_required' || error.code === 'auth.mfa_required')) hooks.signedOut();
  throw error;
}

/** Words a person can act on, from a refusal (field problems listed by the form that sent them). */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const base = error.detail === undefined ? error.title : `${error.title}: ${error.detail}`;
    return error.retryAfter === undefined ? base : `${base} Try again in ${formatWait(error.retryAfter)}.`;
  }
  if (error instanceof TypeError) return 'Rampart did not answer. Check the connection and try again.';
  return 'Something went wrong. Try again.';
}

export function formatWait(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}
