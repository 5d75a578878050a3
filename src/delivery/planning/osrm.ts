import { RoutingError, type UnreachablePair } from './errors.ts';
import { MAX_LOCATIONS, type MatrixLocation, type MatrixProvider, type TravelMatrix } from './matrix.ts';

// The `osrm` matrix adapter: one GET to OSRM's `table` service,
//   {baseUrl}/table/v1/{profile}/{lon},{lat};{lon},{lat}…?annotations=duration,distance
// answered by `{code: "Ok", durations: [[s…]…], distances: [[m…]…]}`, where a
// cell is null when no road joins the pair, and by HTTP 400 with
// `{code, message}` on errors. Every failure becomes a RoutingError naming its
// reason; nothing is retried or replaced here.

export interface OsrmOptions {
  /** Server root, e.g. `http://127.0.0.1:5000` (a path prefix is kept). */
  readonly baseUrl: string;
  /** Whole request, body included. */
  readonly timeoutMs: number;
  /** Path segment naming the profile; OSRM serves the profile it was built with whatever this says. */
  readonly profile?: string;
  /** Refused before sending beyond this; OSRM's default `--max-table-size` is 100. */
  readonly maxLocations?: number;
  /** Responses larger than this are abandoned (a 100×100 answer is a few hundred KiB). */
  readonly maxResponseBytes?: number;
  /** Outbound HTTP; the global fetch by default. */
  readonly fetch?: typeof globalThis.fetch;
}

const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** Six decimals is about 0.1 m, finer than any road snap. */
const coordinate = (location: MatrixLocation) => `${location.point.lon.toFixed(6)},${location.point.lat.toFixed(6)}`;

/** The `table` request for these locations (exported for tests and logs). */
export function osrmTableUrl(baseUrl: string, locations: readonly MatrixLocation[], profile = 'driving'): string {
  const root = baseUrl.replace(/\/+$/, '');
  return `${root}/table/v1/${encodeURIComponent(profile)}/${locations.map(coordinate).join(';')}?annotations=duration,distance`;
}

export function osrmMatrixProvider(options: OsrmOptions): MatrixProvider {
  const url = URL.parse(options.baseUrl);
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '') {
    throw new RangeError(`OSRM base URL must be an http(s) URL without query or fragment: ${options.baseUrl}`);
  }
  const maxLocations = options.maxLocations ?? MAX_LOCATIONS;
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const fetchImpl = options.fetch ?? globalThis.fetch;

  return {
    name: 'osrm',
    maxLocations,
    async matrix(locations, requestOptions = {}) {
      if (locations.length <= 1) return { provider: 'osrm', distancesMetres: locations.map(() => [0]), durationsSeconds: locations.map(() => [0]) };
      if (locations.length > maxLocations) {
        throw new RoutingError('too_many_locations', `${locations.length} locations; one table request carries at most ${maxLocations}`);
      }
      const caller = requestOptions.signal;
      const timeout = AbortSignal.timeout(options.timeoutMs);
      const signal = caller === undefined ? timeout : AbortSignal.any([caller, timeout]);
      const failed = (error: unknown): never => {
        if (caller?.aborted === true) throw caller.reason;
        if (timeout.aborted) throw new RoutingError('timeout', `no complete answer within ${options.timeoutMs} ms`, { cause: error });
        if (error instanceof RoutingError) throw error;
        throw new RoutingError('network', `request failed: ${describe(error)}`, { cause: error });
      };

      let status: number;
      let text: string;
      try {
        const response = await fetchImpl(osrmTableUrl(options.baseUrl, locations, options.profile), { signal, headers: { accept: 'application/json' }, redirect: 'error' });
        status = response.status;
        text = await readBounded(response, maxBytes);
      } catch (error) {
        return failed(error);
      }
      return parseTable(status, text, locations);
    },
  };
}

async function readBounded(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new RoutingError('oversize', `response declares ${declared} bytes; the limit is ${maxBytes}`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (response.body !== null) {
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      total += chunk.byteLength;
      if (total > maxBytes) throw new RoutingError('oversize', `response exceeds the limit of ${maxBytes} bytes`);
      chunks.push(chunk);
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch (error) {
    throw new RoutingError('malformed', 'response is not UTF-8', { cause: error });
  }
}

function parseTable(status: number, text: string, locations: readonly MatrixLocation[]): TravelMatrix {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    if (status < 200 || status > 299) throw new RoutingError('http_status', `HTTP ${status} without an OSRM error document`, { cause: error });
    throw new RoutingError('malformed', `HTTP ${status} with a body that is not JSON`, { cause: error });
  }
  const document = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  const code = document?.['code'];
  if (typeof code === 'string' && code !== 'Ok') {
    const osrmCode = printable(code, 40);
    const message = typeof document?.['message'] === 'string' ? `: ${printable(document['message'], 200)}` : '';
    throw new RoutingError('rejected', `OSRM answered ${osrmCode} (HTTP ${status})${message}`, { osrmCode });
  }
  if (status < 200 || status > 299) throw new RoutingError('http_status', `HTTP ${status}`);
  if (document === undefined || code !== 'Ok') throw new RoutingError('malformed', 'the answer has no `code`');

  const size = locations.length;
  const durations = readMatrix(document['durations'], size, 'durations');
  const distances = readMatrix(document['distances'], size, 'distances');
  const unreachable: UnreachablePair[] = [];
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      if (i !== j && (durations[i]?.[j] === null || distances[i]?.[j] === null)) {
        unreachable.push({ from: locations[i]?.id ?? String(i), to: locations[j]?.id ?? String(j) });
      }
    }
  }
  if (unreachable.length > 0) {
    const shown = unreachable.slice(0, 5).map((p) => `${p.from} → ${p.to}`).join(', ');
    throw new RoutingError('no_route', `no road route for ${unreachable.length} pair(s): ${shown}${unreachable.length > 5 ? ', …' : ''}`, { unreachable });
  }
  // A location always reaches itself, whatever the cell says.
  const filled = (rows: readonly (readonly (number | null)[])[]) => rows.map((row, i) => row.map((cell, j) => (i === j ? 0 : (cell ?? 0))));
  return { provider: 'osrm', durationsSeconds: filled(durations), distancesMetres: filled(distances) };
}

function readMatrix(value: unknown, size: number, name: string): (number | null)[][] {
  const ok =
    Array.isArray(value) &&
    value.length === size &&
    value.every((row) => Array.isArray(row) && row.length === size && row.every((cell) => cell === null || (typeof cell === 'number' && Number.isFinite(cell) && cell >= 0)));
  if (!ok) throw new RoutingError('malformed', `\`${name}\` is missing or is not a ${size}×${size} matrix of non-negative numbers`);
  return value as (number | null)[][];
}

function printable(text: string, max: number): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return printable(`${error.message}${cause}`, 200);
  }
  return 'unknown error';
}
