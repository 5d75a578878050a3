import Type from 'typebox';
import type { PlaneApp } from '../../http/plane.ts';
import { ProblemSchema } from '../../http/problem.ts';
import { RampartError } from '../../kernel/errors.ts';
import type { Delivery } from '../delivery.ts';
import { trackShipment } from '../shipments/shipments.query.ts';
import { StatusSchema } from '../shipments/shipments.schema.ts';
import { SourceRateLimit, type RateLimitSettings } from '../../perimeter/rate-limit.ts';

// The recipient's public tracking page: `GET /t/{token}` on the app plane.
// Anyone holding the link sees the status, the time window, the ETA and the
// last update — never a name, phone number, address or position. Any token
// that is not current answers the plain 404 of an unknown path; each source
// address gets `perimeter.rateLimits.tracking` looks per window.

export function registerTrackingRoute(app: PlaneApp, delivery: Delivery, options: { rateLimit: RateLimitSettings }): SourceRateLimit {
  const limiter = new SourceRateLimit({ clock: delivery.clock, limit: options.rateLimit });
  app.get(
    '/t/:token',
    {
      config: { access: { public: true } },
      schema: {
        params: Type.Object({ token: Type.String({ maxLength: 100 }) }, { additionalProperties: false }),
        response: {
          200: Type.Object({ status: StatusSchema, window: Type.Object({ start: Type.String(), end: Type.String() }), eta: Type.Union([Type.String(), Type.Null()]), lastUpdate: Type.String() }),
          404: ProblemSchema,
          429: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const wait = limiter.take(request.ip);
      if (wait > 0) throw new RampartError('tracking.rate_limited', `tracking lookups from ${request.ip} over the limit`, { retryAfterSeconds: wait });
      reply.header('x-robots-tag', 'noindex, nofollow').header('referrer-policy', 'no-referrer');
      const view = await trackShipment(delivery.db, request.params.token, delivery.etaFor);
      if (view === undefined) throw new RampartError('route.not_found', 'no current tracking token matches');
      return view;
    },
  );
  return limiter;
}
