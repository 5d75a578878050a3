import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PlaneApp } from './plane.ts';

// Server-Sent Events on the app plane, one way for every stream. The response
// is taken over with headers that stop caching and proxy buffering. A stream
// ends when the client goes, when the plane drains (preClose: a drain does not
// wait out its timeout for open streams), after `maxStreamMs` (the client
// reconnects and is authenticated again), or at the first check that finds the
// caller no longer allowed (a logout, a logout everywhere, a disabled account).

export interface EventStreamSettings {
  readonly maxStreamMs: number;
  /** How often the caller is checked again while the stream is open. */
  readonly recheckMs: number;
  /** Whether the caller may still read; false ends the stream. */
  readonly stillAllowed: (request: FastifyRequest) => Promise<boolean>;
}

/** Writes a stream's body until `signal` aborts; the response ends when it returns. */
export type StreamBody = (raw: ServerResponse, signal: AbortSignal) => Promise<void>;

/** How long a client waits before reconnecting, per the SSE `retry` field. */
export const RECONNECT_MS = 2000;

/** Writes to a stream, waiting for a slow reader's socket to drain rather than buffering without bound. */
export async function writeEvent(raw: ServerResponse, text: string, signal: AbortSignal): Promise<void> {
  if (raw.write(text)) return;
  await once(raw, 'drain', { signal });
}

/** How a route serves a stream: the plumbing around `body`. */
export type ServeStream = (request: FastifyRequest, reply: FastifyReply, body: StreamBody) => Promise<void>;

/** Registers the drain hook on `app` and returns how its routes serve a stream. */
export function eventStreams(app: PlaneApp, settings: EventStreamSettings): ServeStream {
  const open = new Set<AbortController>();
  app.addHook('preClose', (done) => {
    for (const stream of open) stream.abort();
    done();
  });

  return async (request, reply, body) => {
    const controller = new AbortController();
    open.add(controller);
    const stop = () => controller.abort();
    const lifetime = setTimeout(stop, settings.maxStreamMs);
    lifetime.unref();
    // A check at a time: a slow database does not pile them up.
    let checking = false;
    const recheck = setInterval(() => {
      if (checking) return;
      checking = true;
      settings
        .stillAllowed(request)
        .then((allowed) => {
          if (!allowed) stop();
        })
        .catch((error: unknown) => request.log.warn({ err: error }, 'stream access check failed'))
        .finally(() => {
          checking = false;
        });
    }, settings.recheckMs);
    recheck.unref();
    // The response's close is the connection's: it fires when the client goes.
    reply.raw.once('close', stop);

    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-request-id': request.id,
      // Tell buffering reverse proxies to pass events through as they come.
      'x-accel-buffering': 'no',
      // A stream's connection is not reused: when the stream ends (drain included), the socket goes with it.
      connection: 'close',
    });
    try {
      await writeEvent(raw, `retry: ${RECONNECT_MS}\n\n`, controller.signal);
      await body(raw, controller.signal);
    } catch (error) {
      if (!controller.signal.aborted) request.log.warn({ err: error }, 'stream failed');
    } finally {
      clearTimeout(lifetime);
      clearInterval(recheck);
      open.delete(controller);
      raw.off('close', stop);
      if (!raw.writableEnded) raw.end();
    }
  };
}

export interface Heartbeat {
  readonly ms: number;
  /** A signal that aborts after `ms`: the idle wait before a heartbeat. Default AbortSignal.timeout; tests fire it by hand. */
  readonly timer?: (ms: number) => AbortSignal;
}

/**
 * An idle stream's wait: `wake` runs with a signal that aborts when the
 * heartbeat interval passes (or the stream ends); when the interval passed
 * first, a heartbeat comment is written.
 */
export async function idleWait(raw: ServerResponse, signal: AbortSignal, heartbeat: Heartbeat, wake: (tick: AbortSignal) => Promise<void>): Promise<void> {
  const tick = AbortSignal.any([signal, (heartbeat.timer ?? ((ms: number) => AbortSignal.timeout(ms)))(heartbeat.ms)]);
  try {
    await wake(tick);
  } catch (error) {
    if (!tick.aborted) throw error;
  }
  if (tick.aborted && !signal.aborted) await writeEvent(raw, ': heartbeat\n\n', signal);
}
