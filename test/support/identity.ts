import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ManualClock } from '../../src/kernel/clock.ts';
import { createMemoryLogger } from '../../src/kernel/logger.ts';
import { totpCode } from '../../src/identity/mfa/totp.ts';
import { startRampart, type RunningRampart } from '../../src/server.ts';
import type { RampartConfig } from '../../src/config/schema.ts';
import { testConfig } from './config.ts';
import { POSTGRES_URL } from './databases.ts';
import { tempDir } from './tmp.ts';

// A running Rampart on a frozen clock, and a small browser: a cookie jar, the
// CSRF token the API hands out, and JSON requests.

type Patch = Parameters<typeof testConfig>[1];

export interface TestRampart {
  readonly running: RunningRampart;
  readonly clock: ManualClock;
  readonly url: string;
  readonly setupCode: string;
  readonly config: RampartConfig;
  stop(): Promise<void>;
}

/**
 * With RAMPART_TEST_E2E_DATABASE=postgres (and RAMPART_TEST_POSTGRES_URL), the
 * servers of the end-to-end tests run on PostgreSQL, each in a fresh schema
 * dropped at stop; otherwise on SQLite in their temporary directory.
 */
function e2eDatabase(patch: Patch): { patch: Patch; drop: () => Promise<void> } {
  if (process.env['RAMPART_TEST_E2E_DATABASE'] !== 'postgres') return { patch, drop: () => Promise.resolve() };
  const url = POSTGRES_URL ?? '';
  if (url === '') throw new Error('RAMPART_TEST_E2E_DATABASE=postgres needs RAMPART_TEST_POSTGRES_URL');
  const schema = `rampart_e2e_${randomBytes(6).toString('hex')}`;
  return {
    patch: { ...patch, database: { ...patch?.database, driver: 'postgres', postgresUrl: url, postgresSchema: schema } },
    async drop() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await client.end();
      }
    },
  };
}

export async function startTestRampart(patch: Patch = {}): Promise<TestRampart> {
  const dir = tempDir('rampart-identity');
  const clock = new ManualClock(new Date().toISOString());
  const announced: string[] = [];
  const database = e2eDatabase(patch);
  const config = testConfig(dir.path, database.patch);
  const running = await startRampart(config, { logger: createMemoryLogger().logger, clock, announce: (t) => announced.push(t) });
  const setupCode = /^\s{5}([0-9A-Z-]{20,})$/m.exec(announced.join(''))?.[1];
  if (setupCode === undefined) throw new Error('no setup code announced');
  return {
    running,
    clock,
    url: running.urls.app,
    setupCode,
    config,
    async stop() {
      await running.stop();
      await database.drop();
      dir.cleanup();
    },
  };
}

export interface ApiResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export class Browser {
  readonly base: string;
  cookie: string | undefined;
  csrf: string | undefined;
  userAgent = 'rampart-test-browser/1';

  constructor(base: string) {
    this.base = base;
  }

  async request<T = Record<string, unknown>>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const sent: Record<string, string> = { 'user-agent': this.userAgent, ...headers };
    if (body !== undefined) sent['content-type'] = 'application/json';
    if (this.cookie !== undefined) sent['cookie'] = this.cookie;
    if (this.csrf !== undefined && method !== 'GET' && !('x-csrf-token' in headers)) sent['x-csrf-token'] = this.csrf;
    const response = await fetch(`${this.base}${path}`, { method, headers: sent, redirect: 'manual', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const setCookie = response.headers.getSetCookie().find((c) => c.startsWith('__Host-rampart-session='));
    if (setCookie !== undefined) {
      const value = setCookie.split(';')[0] ?? '';
      this.cookie = value.endsWith('=') ? undefined : value;
    }
    // A stream that opened is answered by its status alone: reading it would wait for its end.
    if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      await response.body?.cancel();
      return { status: response.status, body: {} as T, headers: response.headers };
    }
    const text = await response.text();
    // Only JSON is parsed: CSV and other documents leave an empty body (use fetch for their text).
    const json = (response.headers.get('content-type') ?? '').includes('json');
    const parsed = (text === '' || !json ? {} : JSON.parse(text)) as T & { csrfToken?: string };
    if (typeof parsed.csrfToken === 'string') this.csrf = parsed.csrfToken;
    return { status: response.status, body: parsed, headers: response.headers };
  }

  get<T = Record<string, unknown>>(path: string) {
    return this.request<T>('GET', path);
  }

  post<T = Record<string, unknown>>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>('POST', path, body ?? {}, headers);
  }
}

export interface SignedIn {
  readonly browser: Browser;
  readonly username: string;
  readonly password: string;
  readonly accountId: string;
  readonly totpSecret: string;
  readonly recoveryCodes: string[];
  /** The current TOTP code (advance the clock 30 s between uses: each step works once). */
  code(): string;
}

/** First sign-in with a setup code: password, TOTP enrolment, recovery codes. */
export async function completeSetup(rampart: TestRampart, username: string, setupCode: string, password = `correct horse battery ${username.length} staple`): Promise<SignedIn> {
  const browser = new Browser(rampart.url);
  const setup = await browser.post('/api/v1/auth/setup', { username, setupCode, password });
  if (setup.status !== 200) throw new Error(`setup failed: ${setup.status} ${JSON.stringify(setup.body)}`);
  const enrol = await browser.post<{ secret: string }>('/api/v1/auth/enrol/totp');
  const secret = enrol.body.secret;
  const confirm = await browser.post<{ recoveryCodes: string[]; account: { id: string } }>('/api/v1/auth/enrol/totp/confirm', { code: totpCode(secret, rampart.clock.now().getTime()) });
  if (confirm.status !== 200) throw new Error(`enrolment failed: ${confirm.status} ${JSON.stringify(confirm.body)}`);
  return { browser, username, password, accountId: confirm.body.account.id, totpSecret: secret, recoveryCodes: confirm.body.recoveryCodes, code: () => totpCode(secret, rampart.clock.now().getTime()) };
}

/** The bootstrap administrator, fully signed in. */
export function signInAdmin(rampart: TestRampart): Promise<SignedIn> {
  return completeSetup(rampart, 'admin', rampart.setupCode);
}

/** An account created by `admin` with `role`, set up and signed in. */
export async function createSignedInUser(rampart: TestRampart, admin: SignedIn, username: string, role: string): Promise<SignedIn> {
  const created = await admin.browser.post<{ setupCode: string }>('/api/v1/users', { username, role });
  if (created.status !== 201) throw new Error(`create user failed: ${created.status} ${JSON.stringify(created.body)}`);
  rampart.clock.advance(30_000);
  return completeSetup(rampart, username, created.body.setupCode);
}

/** Password then TOTP in a fresh browser. */
export async function signIn(rampart: TestRampart, user: SignedIn): Promise<Browser> {
  const browser = new Browser(rampart.url);
  const login = await browser.post('/api/v1/auth/login', { username: user.username, password: user.password });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  rampart.clock.advance(30_000);
  const mfa = await browser.post('/api/v1/auth/mfa/totp', { code: user.code() });
  if (mfa.status !== 200) throw new Error(`mfa failed: ${mfa.status} ${JSON.stringify(mfa.body)}`);
  return browser;
}

/** A fresh sign-in half a minute on: its second factor is recent, as step-up actions require. */
export function freshSignIn(rampart: TestRampart, user: SignedIn): Promise<Browser> {
  rampart.clock.advance(30_000);
  return signIn(rampart, user);
}

/** Audit entries with this action, oldest first. */
export async function auditEntries(rampart: TestRampart, action: string) {
  return rampart.running.database.db.selectFrom('audit_entries').selectAll().where('action', '=', action).orderBy('seq').execute();
}

/** Everything a failed request must leave untouched. */
export async function identitySnapshot(rampart: TestRampart): Promise<string> {
  const db = rampart.running.database.db;
  const [accounts, totp, recovery, sessions, codes] = await Promise.all([
    db.selectFrom('accounts').selectAll().orderBy('id').execute(),
    db.selectFrom('totp_factors').selectAll().orderBy('account_id').execute(),
    db.selectFrom('recovery_codes').selectAll().orderBy('id').execute(),
    db.selectFrom('sessions').select(['id', 'token_hash', 'stage', 'mfa_at', 'ended_at']).orderBy('id').execute(),
    db.selectFrom('setup_codes').selectAll().orderBy('id').execute(),
  ]);
  return JSON.stringify({ accounts, totp, recovery, sessions, codes });
}
