import L from 'leaflet';
import { useEffect, useRef } from 'preact/hooks';
import { useSettings, type ConsoleSettings } from '../console/settings.ts';

// The one map of the console and the driver app, on Leaflet. With a tile URL
// configured it draws those tiles; with none (the default: many sites have no
// internet) it draws on a plain background, with a scale bar, and everything
// Rampart knows still shows: depots, service areas, routes, no-fly zones and
// positions. Markers are built with DOM calls (textContent), never from HTML
// strings, so a name cannot become markup.

export type LatLng = readonly [number, number];

export interface GeoPolygon {
  readonly type: 'Polygon';
  readonly coordinates: ReadonlyArray<ReadonlyArray<readonly [number, number]>>;
}

export function createMap(element: HTMLElement, settings: ConsoleSettings | undefined): L.Map {
  const map = L.map(element, { zoomSnap: 0.25, attributionControl: true, keyboard: true, worldCopyJump: true });
  map.attributionControl.setPrefix(false);
  if (settings !== undefined && settings.tileUrl !== '') {
    L.tileLayer(settings.tileUrl, { maxZoom: 19, attribution: escapeText(settings.tileAttribution) }).addTo(map);
  } else {
    element.classList.add('map-plain');
  }
  L.control.scale({ metric: true, imperial: false }).addTo(map);
  map.setView([51.5, -0.12], 10);
  return map;
}

/** Leaflet renders attribution as HTML; configured text is shown as text. */
function escapeText(text: string): string {
  const span = document.createElement('span');
  span.textContent = text;
  return span.innerHTML;
}

/** GeoJSON [lng, lat] rings → Leaflet [lat, lng]. */
export function polygonLatLngs(polygon: GeoPolygon): L.LatLngExpression[][] {
  return polygon.coordinates.map((ring) => ring.map(([lng, lat]) => [lat, lng] as L.LatLngTuple));
}

export function areaLayer(polygon: GeoPolygon, kind: 'service-area' | 'no-fly', label: string): L.Polygon {
  const layer = L.polygon(polygonLatLngs(polygon), { className: `area ${kind}`, interactive: true });
  layer.bindTooltip(textElement(label), { sticky: true });
  return layer;
}

export function depotMarker(at: LatLng, name: string): L.Marker {
  const element = document.createElement('span');
  element.className = 'depot-pin';
  element.setAttribute('aria-hidden', 'true');
  const marker = L.marker([at[0], at[1]], { icon: L.divIcon({ html: element, className: 'depot-icon', iconSize: [18, 18] }), title: `Depot ${name}`, alt: `Depot ${name}`, keyboard: false });
  marker.bindTooltip(textElement(name));
  return marker;
}

export interface UnitLook {
  readonly kind: 'drone' | 'truck' | 'other';
  readonly heading?: number | undefined;
  readonly stale: boolean;
  readonly label: string;
}

/** A drone or van: a dot with a heading arrow; stale units are greyed. */
export function unitMarker(at: LatLng, look: UnitLook): L.Marker {
  const marker = L.marker([at[0], at[1]], { icon: unitIcon(look), title: look.label, keyboard: false });
  marker.bindTooltip(textElement(look.label));
  return marker;
}

export function unitIcon(look: UnitLook): L.DivIcon {
  const element = document.createElement('span');
  element.className = `unit ${look.kind}${look.stale ? ' stale' : ''}`;
  element.setAttribute('aria-hidden', 'true');
  if (look.heading !== undefined) {
    const arrow = document.createElement('span');
    arrow.className = 'heading';
    arrow.style.transform = `rotate(${look.heading}deg)`;
    element.append(arrow);
  }
  return L.divIcon({ html: element, className: 'unit-icon', iconSize: [20, 20] });
}

export function textElement(text: string): HTMLElement {
  const element = document.createElement('span');
  element.textContent = text;
  return element;
}

/** A Preact host for one map: created on mount, removed on unmount. */
export function MapView(props: { readonly label: string; readonly onReady: (map: L.Map) => (() => void) | undefined; readonly class?: string }) {
  const host = useRef<HTMLDivElement>(null);
  const settings = useSettings();
  const { onReady } = props;
  useEffect(() => {
    if (host.current === null) return undefined;
    const map = createMap(host.current, settings);
    const release = onReady(map);
    return () => {
      release?.();
      map.remove();
    };
  }, [settings, onReady]);
  return <div ref={host} class={`map ${props.class ?? ''}`} role="region" aria-label={props.label} />;
}

/** A numbered stop pin (its place in the visiting order); `state` is a class that colours it (pending, done, failed, late…). */
export function stopMarker(at: LatLng, sequence: number, label: string, state = 'pending'): L.Marker {
  const element = document.createElement('span');
  element.className = `stop-pin ${state}`;
  element.textContent = String(sequence);
  element.setAttribute('aria-hidden', 'true');
  const marker = L.marker([at[0], at[1]], { icon: L.divIcon({ html: element, className: 'stop-icon', iconSize: [22, 22] }), title: label, keyboard: false });
  marker.bindTooltip(textElement(label));
  return marker;
}

/** A path through these points (a route, a drone's legs); `className` styles it (`route-line` by default). */
export function routeLine(points: readonly LatLng[], className = 'route-line'): L.Polyline {
  return L.polyline(points.map(([lat, lon]) => [lat, lon] as L.LatLngTuple), { className, interactive: false });
}

/** Shows every point (a lone point at street level), without animation so layers drawn next are placed at once; nothing to show leaves the view as it is. */
export function fitPoints(map: L.Map, points: readonly LatLng[]): void {
  if (points.length === 0) return;
  const bounds = L.latLngBounds(points.map(([lat, lon]) => [lat, lon] as L.LatLngTuple));
  if (points.length === 1 || bounds.getNorthEast().equals(bounds.getSouthWest())) map.setView(bounds.getCenter(), 15, { animate: false });
  else map.fitBounds(bounds, { padding: [28, 28], maxZoom: 16, animate: false });
}
