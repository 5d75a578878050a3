import type { PlaneApp } from '../http/plane.ts';
import { ProblemSchema } from '../http/problem.ts';
import type { Database } from '../storage/database.ts';
import { AuditPageSchema, AuditQuerySchema } from './audit.schema.ts';
import { queryAudit } from './query.ts';

export interface AuditRouteDeps {
  readonly database: Database;
}

/** The audit trail for auditors, on the app plane. */
export function registerAuditRoutes(app: PlaneApp, deps: AuditRouteDeps): void {
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
      return queryAudit(deps.database.db, {
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
}
