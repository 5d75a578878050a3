import Type from 'typebox';
import { RampartError } from '../kernel/errors.ts';
import type { Metrics } from '../kernel/metrics.ts';
import type { Plane } from './plane.ts';
import { ProblemSchema } from './problem.ts';

export interface HealthDeps {
  /** Throws when a dependency is down (StorageError('storage.unavailable')). */
  readonly checkDatabase: () => Promise<void>;
}

/** Liveness and readiness, on every plane. */
export function registerHealthRoutes(plane: Plane, deps: HealthDeps): void {
  plane.app.get('/healthz', { schema: { response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, () => Promise.resolve({ status: 'ok' as const }));

  plane.app.get(
    '/readyz',
    { schema: { response: { 200: Type.Object({ status: Type.Literal('ready'), checks: Type.Object({ database: Type.Literal('ok') }) }), 503: ProblemSchema } } },
    async () => {
      if (plane.draining) throw new RampartError('service.unavailable', 'plane is draining for shutdown', { publicDetail: 'shutting down' });
      await deps.checkDatabase();
      return { status: 'ready' as const, checks: { database: 'ok' as const } };
    },
  );
}

/** Prometheus exposition, on the admin plane only. */
export function registerMetricsRoute(plane: Plane, metrics: Metrics): void {
  plane.app.get('/metrics', async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
}
