import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PlaneApp } from '../../http/plane.ts';
import { ProblemSchema } from '../../http/problem.ts';
import { RampartError } from '../../kernel/errors.ts';
import type { Delivery } from '../delivery.ts';
import { MAX_JWS_LENGTH, receiptJwks } from './core/index.ts';
import { SourceRateLimit, type RateLimitSettings } from '../../perimeter/rate-limit.ts';
import { receiptStatus } from './receipt-status.ts';
import { ReceiptBody, ReceiptIdParams, ReceiptQuery, ReceiptStatusSchema } from './proofs.schema.ts';

// Public receipt checks on the app plane. `GET /r/{receiptId}` shows the
// delivery's non-personal status; with `?receipt=<JWS>` (or the JWS POSTed as
// text/plain or application/jwt, for long ones) it also says whether that
// receipt is genuine and unaltered. Unknown ids answer the plain 404 of an
// unknown path, and each source address gets `perimeter.rateLimits.receipts`
// looks per window. The receipt keys alone (not the audit or token keys) are
// published at `/.well-known/rampart-receipt-keys.json` for offline verification.

const JWT_TYPE = 'application/jwt';

export async function registerReceiptRoutes(app: PlaneApp, delivery: Delivery, options: { rateLimit: RateLimitSettings }): Promise<SourceRateLimit> {
  const limiter = new SourceRateLimit({ clock: delivery.clock, limit: options.rateLimit });
  const response = { 200: ReceiptStatusSchema, 400: ProblemSchema, 404: ProblemSchema, 413: ProblemSchema, 415: ProblemSchema, 429: ProblemSchema };

  const answer = async (request: FastifyRequest, reply: FastifyReply, receiptId: string, presented: string | undefined) => {
    const wait = limiter.take(request.ip);
    if (wait > 0) throw new RampartError('receipt.rate_limited', `receipt checks from ${request.ip} over the limit`, { retryAfterSeconds: wait });
    void reply.header('x-robots-tag', 'noindex, nofollow').header('referrer-policy', 'no-referrer').header('cache-control', 'no-store');
    const status = await receiptStatus(delivery.db, receiptId, presented?.trim());
    if (status === undefined) throw new RampartError('route.not_found', 'no proof has this receipt id');
    return status;
  };

  app.get(
    '/r/:receiptId',
    { config: { access: { public: true } }, schema: { params: ReceiptIdParams, querystring: ReceiptQuery, response } },
    (request, reply) => answer(request, reply, request.params.receiptId, request.query.receipt),
  );

  // A scope of its own, so the application/jwt body parser serves only this route.
  await app.register((scope: PlaneApp, _options, done) => {
    scope.addContentTypeParser(JWT_TYPE, { parseAs: 'string' }, (_request, body, done) => done(null, body));
    scope.post(
      '/r/:receiptId',
      { bodyLimit: MAX_JWS_LENGTH + 1024, config: { access: { public: true } }, schema: { params: ReceiptIdParams, body: ReceiptBody, response } },
      (request, reply) => answer(request, reply, request.params.receiptId, request.body),
    );
    done();
  });

  app.get('/.well-known/rampart-receipt-keys.json', { config: { access: { public: true } } }, async (_request, reply) => {
    // Rotated-out receipt keys stay listed, so old receipts keep verifying; a stale copy only lacks the newest.
    void reply.header('cache-control', 'public, max-age=300');
    return receiptJwks(delivery.db);
  });
  return limiter;
}
