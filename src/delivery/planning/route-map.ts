import { toPosition, type Position } from './geo.ts';
import type { PlannedRoute } from './optimise.ts';

// A planned route as a GeoJSON FeatureCollection (RFC 7946: positions are
// [lon, lat]) that Leaflet's L.geoJSON draws as is: the depot, each stop in
// visiting order, and the path depot → stops → depot. The path joins the stops
// with straight lines; it is not the road geometry.

export interface PointFeature<P> {
  readonly type: 'Feature';
  readonly geometry: { readonly type: 'Point'; readonly coordinates: Position };
  readonly properties: P;
}

export interface LineFeature<P> {
  readonly type: 'Feature';
  readonly geometry: { readonly type: 'LineString'; readonly coordinates: readonly Position[] };
  readonly properties: P;
}

export interface DepotProperties {
  readonly kind: 'depot';
  readonly departureAt: string;
  readonly returnAt: string;
}

export interface StopProperties {
  readonly kind: 'stop';
  readonly sequence: number;
  readonly stopId: string;
  readonly shipmentId?: string;
  readonly trackingNumber?: string;
  readonly window?: { readonly start: string; readonly end: string };
  readonly eta: string;
  readonly departureAt: string;
  readonly latenessSeconds: number;
}

export interface PathProperties {
  readonly kind: 'path';
  readonly provider: PlannedRoute['provider'];
  readonly distanceMetres: number;
  readonly durationSeconds: number;
}

export interface RouteFeatureCollection {
  readonly type: 'FeatureCollection';
  /** The depot first, then the stops in order, then the path. */
  readonly features: readonly (PointFeature<DepotProperties> | PointFeature<StopProperties> | LineFeature<PathProperties>)[];
}

export function routeFeatureCollection(route: PlannedRoute): RouteFeatureCollection {
  const depot: PointFeature<DepotProperties> = {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: toPosition(route.depot) },
    properties: { kind: 'depot', departureAt: route.startAt, returnAt: route.returnAt },
  };
  const stops = route.stops.map(
    (stop): PointFeature<StopProperties> => ({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: toPosition(stop.point) },
      properties: {
        kind: 'stop',
        sequence: stop.sequence,
        stopId: stop.id,
        ...(stop.shipmentId === undefined ? {} : { shipmentId: stop.shipmentId }),
        ...(stop.trackingNumber === undefined ? {} : { trackingNumber: stop.trackingNumber }),
        ...(stop.window === undefined ? {} : { window: stop.window }),
        eta: stop.eta,
        departureAt: stop.departureAt,
        latenessSeconds: stop.latenessSeconds,
      },
    }),
  );
  const path: LineFeature<PathProperties> = {
    type: 'Feature',
    geometry: { type: 'LineString', coordinates: [toPosition(route.depot), ...route.stops.map((s) => toPosition(s.point)), toPosition(route.depot)] },
    properties: { kind: 'path', provider: route.provider, distanceMetres: route.totalDistanceMetres, durationSeconds: route.totalDurationSeconds },
  };
  return { type: 'FeatureCollection', features: [depot, ...stops, path] };
}
