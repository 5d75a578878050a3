import type L from 'leaflet';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { depotMarker, fitPoints, MapView, routeLine, stopMarker, type LatLng } from '../../map/map.tsx';
import type { RouteDetail } from './common.tsx';

// One route on the map: the depot, a numbered pin per stop in visiting order
// and the line depot → stops → depot. Redrawn whenever the route changes; the
// view moves only when another route is shown, so a reorder does not jump.

export function useLeafletMap(): { map: L.Map | undefined; onReady: (map: L.Map) => () => void } {
  const [map, setMap] = useState<L.Map | undefined>(undefined);
  const onReady = useCallback((created: L.Map) => {
    setMap(created);
    return () => setMap(undefined);
  }, []);
  return { map, onReady };
}

function pinState(stop: RouteDetail['stops'][number]): string {
  if (stop.status !== 'pending') return stop.status;
  return stop.latenessSeconds > 0 ? 'late' : 'pending';
}

export function RouteMap(props: { readonly route: RouteDetail; readonly depotName: string }) {
  const { map, onReady } = useLeafletMap();
  const fitted = useRef<string | undefined>(undefined);
  const { route, depotName } = props;
  useEffect(() => {
    if (map === undefined) return undefined;
    const depot: LatLng = [route.depot.lat, route.depot.lon];
    const stops = route.stops.map((stop, index) => ({ stop, at: [stop.destination.lat, stop.destination.lon] as LatLng, number: index + 1 }));
    const layers: L.Layer[] = [
      routeLine([depot, ...stops.map((s) => s.at), depot]),
      depotMarker(depot, depotName),
      ...stops.map((s) => stopMarker(s.at, s.number, `Stop ${s.number}: ${s.stop.trackingNumber}`, pinState(s.stop))),
    ];
    for (const layer of layers) layer.addTo(map);
    if (fitted.current !== route.id) {
      fitted.current = route.id;
      fitPoints(map, [depot, ...stops.map((s) => s.at)]);
    }
    return () => {
      for (const layer of layers) layer.remove();
    };
  }, [map, route, depotName]);
  return <MapView label={`Map of the route: depot and ${route.stops.length} stops in visiting order`} onReady={onReady} class="planning-map" />;
}
