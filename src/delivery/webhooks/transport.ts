import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Destination } from './ssrf.ts';

// The outbound HTTP port of webhooks and its node:http adapter. The
// connection goes to the vetted address only: the request keeps the host name
// (Host header, TLS server name and certificate check), but its DNS lookup is
// replaced by one that answers with the address the guard approved. Redirects
// are never followed, the whole attempt has one deadline, and at most
// `maxResponseBytes` of the answer are read (and then discarded).

export interface WebhookRequest {
  readonly destination: Destination;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  /** Aborts the attempt (shutdown). */
  readonly signal?: AbortSignal;
}

export interface WebhookResponse {
  readonly status: number;
  /** Seconds from a numeric `Retry-After`, when the receiver sent one. */
  readonly retryAfterSeconds: number | undefined;
}

export type WebhookSender = (request: WebhookRequest) => Promise<WebhookResponse>;

export interface SenderOptions {
  /** Trusted CA certificates (PEM) in place of Node's bundled roots, for receivers under a private CA. */
  readonly ca?: string | readonly string[];
}

export const USER_AGENT = 'Rampart-Webhooks/1';

function pinnedLookup(destination: Destination): LookupFunction {
  const { address, family } = destination.address;
  return (_hostname, options, callback) => {
    if (options.all === true) (callback as (err: null, addresses: { address: string; family: number }[]) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

function retryAfter(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

/** POSTs one signed webhook to its vetted destination. Rejects on network errors and the deadline. */
export function createHttpSender(options: SenderOptions = {}): WebhookSender {
  return (request) =>
    new Promise<WebhookResponse>((resolve, reject) => {
      const { url, host } = request.destination;
      const secure = url.protocol === 'https:';
      const body = Buffer.from(request.body, 'utf8');
      const requestOptions: https.RequestOptions = {
        method: 'POST',
        hostname: host,
        port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
        path: `${url.pathname}${url.search}`,
        headers: { ...request.headers, host: url.host, 'content-type': 'application/json', 'content-length': String(body.length), 'user-agent': USER_AGENT },
        // A fresh connection per attempt: a pooled one may have been opened for another vetting.
        agent: false,
        lookup: pinnedLookup(request.destination),
        ...(secure && options.ca !== undefined ? { ca: typeof options.ca === 'string' ? options.ca : [...options.ca] } : {}),
      };
      let settled = false;
      const finish = (outcome: { response: WebhookResponse } | { error: Error }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onAbort);
        if ('error' in outcome) reject(outcome.error);
        else resolve(outcome.response);
      };
      const req = (secure ? https : http).request(requestOptions, (res) => {
        const response = { status: res.statusCode ?? 0, retryAfterSeconds: retryAfter(res.headers['retry-after']) };
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > request.maxResponseBytes) {
            // Enough: the status decided the outcome, the rest is not worth reading.
            res.destroy();
            finish({ response });
          }
        });
        res.on('end', () => finish({ response }));
        res.on('error', (error) => finish({ error }));
        res.on('close', () => {
          if (!res.complete) finish({ error: new Error('the receiver closed the connection before the response ended') });
        });
      });
      const timer = setTimeout(() => {
        const error = new Error(`timed out after ${request.timeoutMs} ms`);
        req.destroy(error);
        finish({ error });
      }, request.timeoutMs);
      const onAbort = () => {
        const error = new Error('attempt aborted (shutting down)');
        req.destroy(error);
        finish({ error });
      };
      if (request.signal?.aborted === true) onAbort();
      else request.signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (error) => finish({ error }));
      req.end(body);
    });
}
