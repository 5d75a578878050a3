import { distanceMetres, type GeoPoint } from './geo.ts';

// The distance/duration matrix port. A provider turns locations into two square
// matrices, `[i][j]` meaning "from location i to location j". Adapters:
// `great-circle` (here) and `osrm` (osrm.ts, road distances).

export type MatrixProviderName = 'great-circle' | 'osrm';

export interface MatrixLocation {
  /** Used only to name locations in errors (e.g. which pair has no road). */
  readonly id: string;
  readonly point: GeoPoint;
}

export interface TravelMatrix {
  readonly provider: MatrixProviderName;
  /** Metres; `[i][i]` is 0. */
  readonly distancesMetres: readonly (readonly number[])[];
  /** Seconds of driving, without stops. */
  readonly durationsSeconds: readonly (readonly number[])[];
}

export interface MatrixRequestOptions {
  /** Cancels the request; the promise then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface MatrixProvider {
  readonly name: MatrixProviderName;
  /** Most locations one call accepts (OSRM's default `max-table-size` is 100). */
  readonly maxLocations: number;
  /** Rejects with RoutingError when no usable matrix can be had. */
  matrix(locations: readonly MatrixLocation[], options?: MatrixRequestOptions): Promise<TravelMatrix>;
}

/** Locations a route request may hold: the depot plus 99 stops fits OSRM's default table limit. */
export const MAX_LOCATIONS = 100;

export interface GreatCircleOptions {
  /** Average speed used to turn distance into duration. */
  readonly averageSpeedKmh: number;
  readonly maxLocations?: number;
}

/** Straight-line distances (haversine) and durations at an average speed; needs no network. */
export function greatCircleMatrixProvider(options: GreatCircleOptions): MatrixProvider {
  if (!(options.averageSpeedKmh > 0) || !Number.isFinite(options.averageSpeedKmh)) throw new RangeError('averageSpeedKmh must be a positive number');
  const metresPerSecond = (options.averageSpeedKmh * 1000) / 3600;
  return {
    name: 'great-circle',
    maxLocations: options.maxLocations ?? MAX_LOCATIONS,
    matrix(locations) {
      const distancesMetres = locations.map((from) => locations.map((to) => (from === to ? 0 : distanceMetres(from.point, to.point))));
      const durationsSeconds = distancesMetres.map((row) => row.map((metres) => metres / metresPerSecond));
      return Promise.resolve({ provider: 'great-circle', distancesMetres, durationsSeconds });
    },
  };
}

/** Whether both matrices are `size`×`size` of finite, non-negative numbers. */
export function isMatrixOfSize(matrix: TravelMatrix, size: number): boolean {
  const square = (rows: readonly (readonly number[])[]) =>
    rows.length === size && rows.every((row) => row.length === size && row.every((cell) => Number.isFinite(cell) && cell >= 0));
  return square(matrix.distancesMetres) && square(matrix.durationsSeconds);
}
