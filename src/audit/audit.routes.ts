import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import Type from 'typebox';
import type { PlaneApp } from '../http/plane.ts';
import { ProblemSchema } from '../http/problem.ts';
import { systemClock, type Clock } from '../kernel/clock.ts';
import { RampartError } from '../kernel/errors.ts';
import type { Database } from '../storage/database.ts';
import { AuditEntryParams, AuditExportQuerySchema, AuditItemSchema, AuditPageSchema, AuditQuerySchema, AuditVerificationSchema, AuditVerifyProgressSchema } from './audit.schema.ts';
import { exportAuditTrail } from './export.ts';
import { presentEntry, queryAudit } from './query.ts';
import { verifyAuditTrail, type AuditProblem, type AuditVerificationReport, type VerifyProgress } from './verify.ts';

export interface AuditRouteDeps {
  readonly database: Database;
  /** Stamps exports (their header's exported_at and file name). */
  readonly clock?: Clock;
}

/** The audit trail for auditors, on the app plane: read it, verify it, export it. */
export function registerAuditRoutes(app: PlaneApp, deps: AuditRouteDeps): void {
  const { database } = deps;
  const clock = deps.clock ?? systemClock;
  const verification = new VerificationRuns(database);

  app.get(
    '/api/v1/audit/entries',
    {
      config: { access: { permission: 'audit.read' } },
      schema: {
        tags: ['audit'],
        summary: 'Audit entries, newest first (filter by actor, action, target and time; paginate with nextCursor)',
        querystring: AuditQuerySchema,
        response: { 200: AuditPageSchema, 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema },
      },
    },
    async (request) => {
      const { actor, action, target, from, to, cursor, limit } = request.query;
      return queryAudit(database.db, {
        limit,
        ...(actor === undefined ? {} : { actor }),
        ...(action === undefined ? {} : { action }),
        ...(target === undefined ? {} : { target }),
        ...(from === undefined ? {} : { from: new Date(from) }),
        ...(to === undefined ? {} : { to: new Date(to) }),
        ...(cursor === undefined ? {} : { cursor }),
      });
    },
  );

  app.get(
    '/api/v1/audit/entries/:seq',
    {
      config: { access: { permission: 'audit.read' } },
      schema: {
        tags: ['audit'],
        summary: 'One audit entry by its position in the chain (as verification names it)',
        params: AuditEntryParams,
        response: { 200: AuditItemSchema, 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (request) => {
      const { seq } = request.params;
      const row = await database.db.selectFrom('audit_entries').selectAll().where('seq', '=', seq).executeTakeFirst();
      if (row === undefined) throw new RampartError('route.not_found', `no audit entry has seq ${seq}`, { publicDetail: `no entry ${seq} is stored in the audit trail` });
      return presentEntry(row);
    },
  );

  app.post(
    '/api/v1/audit/verify',
    {
      config: { access: { permission: 'audit.read' } },
      schema: {
        tags: ['audit'],
        summary: 'Verify the whole stored trail: every entry\'s hash and link, every checkpoint\'s signature, the end of the chain (as `rampart audit verify`)',
        description: 'Answers when the walk is done; GET on the same path reports how far it has got. A verification already under way is joined rather than started twice. Changes nothing.',
        response: { 200: AuditVerificationSchema, 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema },
      },
    },
    async (request) => {
      // Nothing to choose: the whole stored trail is walked. A body that asks for something else is refused rather than ignored.
      if (!isEmptyBody(request.body)) throw new RampartError('request.invalid', 'audit verification was sent parameters', { publicDetail: 'verification takes no parameters: send no body, or {}' });
      return presentReport(await verification.run());
    },
  );

  app.get(
    '/api/v1/audit/verify',
    {
      config: { access: { permission: 'audit.read' } },
      schema: {
        tags: ['audit'],
        summary: 'How far the verification under way has got',
        response: { 200: AuditVerifyProgressSchema, 401: ProblemSchema, 403: ProblemSchema },
      },
    },
    () => Promise.resolve(verification.progress()),
  );

  app.get(
    '/api/v1/audit/export',
    {
      config: { access: { permission: 'audit.read' } },
      schema: {
        tags: ['audit'],
        summary: 'The trail as JSON Lines: a header with the audit public keys, then entries and signed checkpoints (as `rampart audit export`)',
        description: 'Verify the file elsewhere with `rampart audit verify --export <file> --jwks <keys>`, using keys obtained apart from the file.',
        querystring: AuditExportQuerySchema,
        response: { 200: Type.String({ description: 'JSON Lines (one JSON object a line)' }), 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema },
      },
    },
    async (request, reply) => {
      const { since } = request.query;
      const now = clock.now();
      const stream = await spoolExport(database, clock, since === undefined ? undefined : new Date(since));
      // Served as plain text: a browser saves it as the attachment it is, and no client mistakes the lines for one JSON document.
      return reply
        .type('text/plain; charset=utf-8')
        .header('content-disposition', `attachment; filename="rampart-audit-${now.toISOString().slice(0, 10)}.jsonl"`)
        .header('cache-control', 'no-store')
        .send(stream as unknown as string);
    },
  );
}

function isEmptyBody(body: unknown): boolean {
  return body === undefined || body === null || (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0);
}

/** At most one walk of the trail at a time: a second request joins the one under way. */
export class VerificationRuns {
  readonly #database: Database;
  #report: Promise<AuditVerificationReport> | undefined;
  #progress: VerifyProgress = { done: 0, total: 0 };

  constructor(database: Database) {
    this.#database = database;
  }

  run(): Promise<AuditVerificationReport> {
    if (this.#report !== undefined) return this.#report;
    this.#progress = { done: 0, total: 0 };
    const report = verifyAuditTrail({
      database: this.#database,
      onProgress: (progress) => {
        if (this.#report === report) this.#progress = progress;
      },
    }).finally(() => {
      if (this.#report === report) this.#report = undefined;
    });
    this.#report = report;
    return report;
  }

  /** Entries checked so far by the walk under way (reported every few hundred). */
  progress(): { running: boolean; done: number; total: number } {
    return this.#report === undefined ? { running: false, done: 0, total: 0 } : { running: true, ...this.#progress };
  }
}

function presentProblem(problem: AuditProblem): { seq: number | null; kind: AuditProblem['kind']; message: string } {
  return { seq: Number.isFinite(problem.seq) ? problem.seq : null, kind: problem.kind, message: problem.message };
}

function presentReport(report: AuditVerificationReport) {
  return {
    ok: report.ok,
    entries: report.entries,
    checkpoints: report.checkpoints,
    head: report.head === undefined ? null : { seq: report.head.seq, hash: report.head.hash },
    lastCheckpoint: report.lastCheckpoint === undefined ? null : { seq: report.lastCheckpoint.seq, at: report.lastCheckpoint.at },
    problemCount: report.problemCount,
    problems: report.problems.map(presentProblem),
    firstProblem: report.firstProblem === undefined ? null : presentProblem(report.firstProblem),
  };
}

const SPOOL_CHUNK = 64 * 1024;

/**
 * Writes the export to a private temporary file, then hands back a stream of
 * it: the read snapshot lasts as long as the local copy takes, not as long as
 * a slow download would. The file goes when the stream closes.
 */
async function spoolExport(database: Database, clock: Clock, since: Date | undefined): Promise<Readable> {
  const dir = await mkdtemp(join(tmpdir(), 'rampart-audit-export-'));
  const discard = () => rm(dir, { recursive: true, force: true });
  let handle;
  try {
    handle = await open(join(dir, 'trail.jsonl'), 'wx+', 0o600);
  } catch (error) {
    await discard();
    throw error;
  }
  try {
    const file = handle;
    let pending: string[] = [];
    let pendingBytes = 0;
    let position = 0;
    const flush = async () => {
      if (pending.length === 0) return;
      const bytes = Buffer.from(pending.join(''), 'utf8');
      pending = [];
      pendingBytes = 0;
      await file.write(bytes, 0, bytes.length, position);
      position += bytes.length;
    };
    await exportAuditTrail({
      database,
      clock,
      ...(since === undefined ? {} : { since }),
      write: async (line) => {
        pending.push(line);
        pendingBytes += line.length;
        if (pendingBytes >= SPOOL_CHUNK) await flush();
      },
    });
    await flush();
  } catch (error) {
    await handle.close();
    await discard();
    throw error;
  }
  const stream = handle.createReadStream({ start: 0, autoClose: true });
  stream.once('close', () => void discard());
  return stream;
}
