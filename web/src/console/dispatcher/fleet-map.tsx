import type L from 'leaflet';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, client, describeError } from '../../api/client.ts';
import type { Ok } from '../../api/types.ts';
import { areaLayer, depotMarker, fitPoints, MapView, unitIcon, unitMarker, type LatLng, type UnitLook } from '../../map/map.tsx';
import { ErrorNote } from '../../ui/form.tsx';
import { readAll } from '../../ui/pages.tsx';
import { DepotSelect, hrefWith, Select, useDepots } from '../planning/common.tsx';

// The live fleet map: every drone and van the dispatcher may see, where it
// last reported, updating itself. The fleet's status is loaded in pages, then
// the server's stream (GET /api/v1/devices/status/stream) sends what changed,
// gathered into one message per interval; markers move once per animation
// frame however many messages came, and the side list re-renders at most once
// a second. A unit not heard for STALE_MS is greyed and listed as stale; one
// never heard has no marker. After a reconnect the list is loaded again (the
// stream sends changes, not a replay). Depot and kind are in the query string.

type Unit = Ok<'/api/v1/devices/status', 'get'>['items'][number];

const MAP_PATH = '/console/map';
const PAGE = 500;
/** A unit whose last report is older than this is stale. */
export const STALE_MS = 2 * 60_000;
/** How often staleness is looked at again without news. */
const RESTALE_MS = 15_000;
/** How many markers one animation frame creates (a first load of hundreds is spread over frames). */
const NEW_MARKERS_PER_FRAME = 100;
/** The side list is redrawn at most this often. */
const LIST_MS = 1000;

const KINDS = [
  { value: '', label: 'Drones and vans' },
  { value: 'drone', label: 'Drones' },
  { value: 'truck', label: 'Vans' },
] as const;

function lastHeard(unit: Unit): string | null {
  return unit.reading?.at ?? unit.lastSeenAt;
}

function isStale(unit: Unit, now: number): boolean {
  const heard = lastHeard(unit);
  return heard === null || now - Date.parse(heard) > STALE_MS;
}

function lookOf(unit: Unit, now: number): UnitLook {
  return { kind: unit.kind, heading: unit.reading?.heading ?? undefined, stale: isStale(unit, now), label: `${unit.name} (${unit.id})` };
}

function ago(iso: string | null, now: number): string {
  if (iso === null) return 'never heard';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

async function loadFleet(filter: { depot: string; kind: string }): Promise<Unit[]> {
  const kind: Unit['kind'] | undefined = filter.kind === 'drone' ? 'drone' : filter.kind === 'truck' ? 'truck' : undefined;
  const { items } = await readAll((cursor) => api(() => client.GET('/api/v1/devices/status', { params: { query: { limit: PAGE, ...(filter.depot === '' ? {} : { depot: filter.depot }), ...(kind === undefined ? {} : { kind }), ...(cursor === undefined ? {} : { cursor }) } } })));
  return items;
}

type Live = 'connecting' | 'live' | 'reconnecting' | 'stopped';

/**
 * The fleet as a mutable map (markers read it every frame) plus a version
 * that bumps when the list should redraw. Changes from the stream are folded
 * in as they come.
 */
function useFleet(depot: string, kind: string) {
  const units = useRef(new Map<string, Unit>());
  const changed = useRef(new Set<string>());
  const [version, setVersion] = useState(0);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [live, setLive] = useState<Live>('connecting');
  const [retry, setRetry] = useState(0);
  const listTimer = useRef<number | undefined>(undefined);
  const listeners = useRef(new Set<() => void>());

  const redrawSoon = useCallback(() => {
    for (const listener of listeners.current) listener();
    if (listTimer.current !== undefined) return;
    listTimer.current = window.setTimeout(() => {
      listTimer.current = undefined;
      setVersion((v) => v + 1);
    }, LIST_MS);
  }, []);

  useEffect(() => {
    let ended = false;
    const fleet = units.current;
    fleet.clear();
    setLoaded(false);
    setError(undefined);
    setLive('connecting');
    const reload = async () => {
      try {
        const all = await loadFleet({ depot, kind });
        if (ended) return;
        // A change streamed while the list was loading is newer than the list: it stays.
        for (const unit of all) {
          const known = fleet.get(unit.id);
          if (known !== undefined && (lastHeard(known) ?? '') > (lastHeard(unit) ?? '')) continue;
          fleet.set(unit.id, unit);
          changed.current.add(unit.id);
        }
        setLoaded(true);
        setVersion((v) => v + 1);
        for (const listener of listeners.current) listener();
      } catch (failure) {
        if (!ended) setError(failure);
      }
    };
    const query = new URLSearchParams();
    if (depot !== '') query.set('depot', depot);
    if (kind !== '') query.set('kind', kind);
    const source = new EventSource(`/api/v1/devices/status/stream${query.size === 0 ? '' : `?${query.toString()}`}`);
    let opened = 0;
    source.addEventListener('open', () => {
      opened += 1;
      setLive('live');
      // The first connection follows the first load; a reconnection may have missed changes.
      void reload();
    });
    source.addEventListener('status', (event: MessageEvent<string>) => {
      const message = JSON.parse(event.data) as { items: Unit[] };
      for (const unit of message.items) {
        fleet.set(unit.id, unit);
        changed.current.add(unit.id);
      }
      redrawSoon();
    });
    source.addEventListener('error', () => {
      if (source.readyState === EventSource.CLOSED) {
        if (opened === 0) void reload();
        // Refused (signed out, access ended): the session probe sends the console to sign-in if so.
        setLive('stopped');
        void api(() => client.GET('/api/v1/auth/session')).catch(() => undefined);
      } else setLive(opened === 0 ? 'connecting' : 'reconnecting');
    });
    return () => {
      ended = true;
      source.close();
      if (listTimer.current !== undefined) window.clearTimeout(listTimer.current);
      listTimer.current = undefined;
    };
  }, [depot, kind, retry, redrawSoon]);

  const onChange = useCallback((listener: () => void) => {
    listeners.current.add(listener);
    return () => void listeners.current.delete(listener);
  }, []);

  return { units: units.current, changed: changed.current, version, loaded, error, live, reconnect: () => setRetry((r) => r + 1), onChange };
}

export default function FleetMapScreen() {
  const { query, route: go } = useLocation();
  const depot = query['depot'] ?? '';
  const kind = KINDS.some((k) => k.value === query['kind']) ? (query['kind'] ?? '') : '';
  const { depots, error: depotError } = useDepots();
  const fleet = useFleet(depot, kind);
  const [search, setSearch] = useState('');
  const [now, setNow] = useState(Date.now());
  const [focus, setFocus] = useState<string | undefined>(undefined);
  const mapRef = useRef<L.Map | undefined>(undefined);
  const markers = useRef(new Map<string, { marker: L.Marker; stale: boolean; heading: number | null }>());

  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), RESTALE_MS);
    return () => window.clearInterval(timer);
  }, []);
  // The list redraws on its own schedule; its "ago" figures follow.
  useEffect(() => setNow(Date.now()), [fleet.version]);

  const set = (change: Record<string, string>) => go(hrefWith(MAP_PATH, { depot, kind, ...change }), true);

  const depotLayers = useMemo(() => (depots ?? []).filter((d) => depot === '' || d.id === depot).map((d) => ({ at: [d.location.lat, d.location.lon] as LatLng, name: d.name, area: d.serviceArea })), [depots, depot]);

  /** Draws the changed units into the map, once per frame. */
  const onReady = useCallback(
    (map: L.Map) => {
      mapRef.current = map;
      const drawn = markers.current;
      drawn.clear();
      for (const d of depotLayers) {
        if (d.area !== null) areaLayer({ type: 'Polygon', coordinates: d.area.coordinates.map((ring) => ring.map(([lon = 0, lat = 0]) => [lon, lat] as const)) }, 'service-area', `${d.name}: service area`).addTo(map);
        depotMarker(d.at, d.name).addTo(map);
      }
      let frame: number | undefined;
      // The view follows the fleet as units appear until the person moves the map themselves.
      let takenOver = false;
      const takeOver = () => {
        takenOver = true;
      };
      const container = map.getContainer();
      for (const type of ['pointerdown', 'wheel', 'keydown'] as const) container.addEventListener(type, takeOver, { passive: true });
      let everyMarker = false;
      const draw = () => {
        frame = undefined;
        const at = Date.now();
        const ids = new Set(fleet.changed);
        fleet.changed.clear();
        // Staleness moves with time, not news: now and then every marker is looked at.
        if (everyMarker) for (const id of drawn.keys()) ids.add(id);
        everyMarker = false;
        let added = 0;
        for (const id of ids) {
          // New markers are the costly part: a frame makes at most this many, the rest wait for the next.
          if (added >= NEW_MARKERS_PER_FRAME) {
            fleet.changed.add(id);
            continue;
          }
          const unit = fleet.units.get(id);
          const existing = drawn.get(id);
          if (unit?.reading == null) {
            if (existing !== undefined) {
              existing.marker.remove();
              drawn.delete(id);
            }
            continue;
          }
          const position: LatLng = [unit.reading.lat, unit.reading.lon];
          const look = lookOf(unit, at);
          if (existing === undefined) {
            const marker = unitMarker(position, look).addTo(map);
            marker.getElement()?.setAttribute('data-unit', unit.id);
            drawn.set(id, { marker, stale: look.stale, heading: unit.reading.heading });
            added += 1;
            continue;
          }
          const old = existing.marker.getLatLng();
          if (old.lat !== position[0] || old.lng !== position[1]) existing.marker.setLatLng([position[0], position[1]]);
          if (existing.stale !== look.stale || existing.heading !== unit.reading.heading) {
            existing.marker.setIcon(unitIcon(look));
            existing.marker.getElement()?.setAttribute('data-unit', unit.id);
            existing.stale = look.stale;
            existing.heading = unit.reading.heading;
          }
        }
        if (fleet.changed.size > 0) schedule();
        if (!takenOver && (added > 0 || first)) fitPoints(map, [...[...drawn.values()].map((d) => [d.marker.getLatLng().lat, d.marker.getLatLng().lng] as LatLng), ...depotLayers.map((d) => d.at)]);
        first = false;
      };
      let first = true;
      const schedule = () => {
        frame ??= requestAnimationFrame(draw);
      };
      const restale = window.setInterval(() => {
        everyMarker = true;
        schedule();
      }, RESTALE_MS);
      const stop = fleet.onChange(schedule);
      // A map made again (new depots) draws every unit it is shown.
      for (const id of fleet.units.keys()) fleet.changed.add(id);
      schedule();
      return () => {
        for (const type of ['pointerdown', 'wheel', 'keydown'] as const) container.removeEventListener(type, takeOver);
        stop();
        window.clearInterval(restale);
        if (frame !== undefined) cancelAnimationFrame(frame);
        mapRef.current = undefined;
      };
    },
    // The fleet's mutable parts are stable refs.
    [depotLayers, fleet.onChange],
  );

  const units = [...fleet.units.values()];
  const needle = search.trim().toLowerCase();
  const shown = units.filter((u) => needle === '' || u.name.toLowerCase().includes(needle) || u.id.toLowerCase().includes(needle)).sort((a, b) => Number(isStale(a, now)) - Number(isStale(b, now)) || a.name.localeCompare(b.name));
  const staleCount = units.filter((u) => isStale(u, now) && lastHeard(u) !== null).length;
  const neverCount = units.filter((u) => lastHeard(u) === null).length;

  const show = (unit: Unit) => {
    setFocus(unit.id);
    const drawn = markers.current.get(unit.id);
    const map = mapRef.current;
    if (drawn === undefined || map === undefined) return;
    map.setView(drawn.marker.getLatLng(), Math.max(map.getZoom(), 14), { animate: false });
    drawn.marker.openTooltip();
  };

  return (
    <section class="fleet">
      <h1>Live map</h1>
      <div class="toolbar" role="group" aria-label="Which units">
        <DepotSelect depots={depots} value={depot} onChange={(value) => set({ depot: value })} allowAll />
        <Select label="Kind" name="kind" value={kind} onChange={(value) => set({ kind: value })}>
          {KINDS.map((k) => (
            <option key={k.value} value={k.value}>
              {k.label}
            </option>
          ))}
        </Select>
        <p class={`live-state ${fleet.live}`} role="status" aria-live="polite">
          {fleet.live === 'live' ? 'Live' : fleet.live === 'reconnecting' ? 'Reconnecting…' : fleet.live === 'connecting' ? 'Connecting…' : 'Live updates stopped'}
        </p>
        {fleet.live === 'stopped' ? <button type="button" class="button" onClick={fleet.reconnect}>Reconnect</button> : null}
      </div>
      {depotError === undefined ? null : <ErrorNote error={depotError} />}
      {fleet.error === undefined ? null : <p class="error-note" role="alert">The fleet could not be loaded: {describeError(fleet.error)}</p>}
      <div class="fleet-layout">
        <MapView label="Fleet map" class="fleet-map" onReady={onReady} />
        <aside class="fleet-list" aria-label="Units">
          <p class="fleet-counts">
            {fleet.loaded ? `${units.length} units · ${units.length - staleCount - neverCount} live · ${staleCount} stale · ${neverCount} never heard` : 'Loading the fleet…'}
          </p>
          <label class="field">
            <span class="label">Find a unit</span>
            <input type="search" value={search} onInput={(e) => setSearch(e.currentTarget.value)} placeholder="Name or id" />
          </label>
          {fleet.loaded && shown.length === 0 ? <p>{units.length === 0 ? 'No units in view.' : 'No unit matches.'}</p> : null}
          <ul class="unit-list">
            {shown.slice(0, 200).map((unit) => (
              <li key={unit.id} class={`${isStale(unit, now) ? 'stale' : 'live'}${focus === unit.id ? ' focused' : ''}`} data-unit={unit.id}>
                <button type="button" class="unit-row" onClick={() => show(unit)} disabled={unit.reading === null} title="Show on the map">
                  <span class={`unit-dot ${unit.kind}${isStale(unit, now) ? ' stale' : ''}`} aria-hidden="true" />
                  <span class="unit-name">{unit.name}</span>
                  <span class="unit-meta">
                    {unit.kind === 'drone' ? 'Drone' : 'Van'} · {unit.status === 'disabled' ? 'disabled · ' : ''}
                    {isStale(unit, now) && lastHeard(unit) !== null ? 'stale · ' : ''}
                    {ago(lastHeard(unit), now)}
                    {unit.reading?.battery == null ? '' : ` · ${Math.round(unit.reading.battery)} %`}
                  </span>
                </button>
              </li>
            ))}
          </ul>
          {shown.length > 200 ? <p class="hint">{shown.length - 200} more: narrow the search.</p> : null}
        </aside>
      </div>
    </section>
  );
}
