import L from 'leaflet';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, ApiError, client } from '../../api/client.ts';
import type { Ok } from '../../api/types.ts';
import { depotMarker, fitPoints, MapView, polygonLatLngs, routeLine, textElement, type LatLng } from '../../map/map.tsx';
import { Button, ErrorNote } from '../../ui/form.tsx';
import { DepotSelect, formatDistance, formatDuration, hrefWith, plural, Select, Time, useDepots, usePermission, type Depot } from './common.tsx';
import { useLeafletMap } from './route-map.tsx';
import { TableHead } from '../../ui/table.tsx';

// Drone missions: a drone delivery waiting for dispatch and one of the
// depot's drones give a mission planned by the server (depot → drop point →
// depot in straight legs), shown on the map over the configured no-fly
// zones. A refusal lists every reason the server gave, and the zones it
// names are marked. `/console/missions/{id}` is one mission: its legs, its
// waypoints, and sending it to the drone.

type Shipment = Ok<'/api/v1/shipments', 'get'>['items'][number];
type Drone = Ok<'/api/v1/drones', 'get'>['items'][number];
type Zone = Ok<'/api/v1/no-fly-zones', 'get'>['items'][number];
type Mission = Ok<'/api/v1/missions/{id}', 'get'>;

export const MISSIONS_PATH = '/console/missions';
const MISSION_ID = /msn_[A-Za-z0-9_-]{22}/;
const NONE: ReadonlySet<string> = new Set();

interface Waypoint {
  readonly sequence: number;
  readonly action: string;
  readonly lat: number;
  readonly lon: number;
  readonly altitudeM: number;
}

interface MissionDocument {
  readonly waypoints: readonly Waypoint[];
  readonly distanceMetres: number | undefined;
  readonly estimatedDurationSeconds: number | undefined;
  readonly cruiseAltitudeM: number | undefined;
  readonly deviceId: string | undefined;
}

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/** The mission document as sent to the drone, read defensively (its schema is the drone's, not the console's). */
function readMission(document: unknown): MissionDocument {
  const doc = typeof document === 'object' && document !== null ? (document as Record<string, unknown>) : {};
  const raw = Array.isArray(doc['waypoints']) ? (doc['waypoints'] as unknown[]) : [];
  const waypoints = raw.flatMap((w): Waypoint[] => {
    if (typeof w !== 'object' || w === null) return [];
    const point = w as Record<string, unknown>;
    const lat = num(point['lat']);
    const lon = num(point['lon']);
    if (lat === undefined || lon === undefined) return [];
    return [{ sequence: num(point['sequence']) ?? 0, action: typeof point['action'] === 'string' ? point['action'] : '', lat, lon, altitudeM: num(point['altitudeM']) ?? 0 }];
  });
  return { waypoints, distanceMetres: num(doc['distanceMetres']), estimatedDurationSeconds: num(doc['estimatedDurationSeconds']), cruiseAltitudeM: num(doc['cruiseAltitudeM']), deviceId: typeof doc['droneId'] === 'string' ? doc['droneId'] : undefined };
}

/** The configured no-fly zones (none when the list is refused: the server still checks every mission). */
function useZones(): { zones: readonly Zone[]; error: unknown } {
  const [zones, setZones] = useState<readonly Zone[]>([]);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    api(() => client.GET('/api/v1/no-fly-zones'))
      .then((loaded) => setZones(loaded.items))
      .catch((failure: unknown) => setError(failure));
  }, []);
  return { zones, error };
}

function zoneLayer(zone: Zone, blocking: boolean): L.Polygon {
  const rings = zone.area.coordinates.map((ring) => ring.map(([lon = 0, lat = 0]) => [lon, lat] as const));
  const layer = L.polygon(polygonLatLngs({ type: 'Polygon', coordinates: rings }), { className: `area no-fly${blocking ? ' blocking' : ''}`, interactive: true });
  layer.bindTooltip(textElement(`No-fly zone ${zone.name}${blocking ? ' (in the way)' : ''}`), { sticky: true });
  return layer;
}

function dropMarker(at: LatLng, label: string): L.CircleMarker {
  const marker = L.circleMarker([at[0], at[1]], { className: 'planning-drop', radius: 8 });
  marker.bindTooltip(textElement(label));
  return marker;
}

/** Depot, zones, and either the planned legs or the straight line a mission would take. */
function MissionMap(props: { readonly depot: LatLng | undefined; readonly depotName: string; readonly drop: LatLng | undefined; readonly dropLabel: string; readonly zones: readonly Zone[]; readonly blocking: ReadonlySet<string>; readonly legs: readonly LatLng[] | undefined; readonly label: string }) {
  const { map, onReady } = useLeafletMap();
  const { depot, depotName, drop, dropLabel, zones, blocking, legs } = props;
  const framed = useRef('');
  useEffect(() => {
    if (map === undefined) return undefined;
    const layers: L.Layer[] = zones.map((zone) => zoneLayer(zone, blocking.has(zone.name)));
    if (depot !== undefined && drop !== undefined) layers.push(legs === undefined ? routeLine([depot, drop], 'planning-leg-preview') : routeLine(legs, 'route-line planning-flight'));
    if (depot !== undefined) layers.push(depotMarker(depot, depotName));
    if (drop !== undefined) layers.push(dropMarker(drop, dropLabel));
    for (const layer of layers) layer.addTo(map);
    const points = [depot, drop].filter((p): p is LatLng => p !== undefined);
    const frame = JSON.stringify(points);
    if (frame !== framed.current) {
      framed.current = frame;
      if (points.length > 0) fitPoints(map, points);
      else if (zones.length > 0) map.fitBounds(L.featureGroup(layers).getBounds(), { padding: [28, 28], animate: false });
    }
    return () => {
      for (const layer of layers) layer.remove();
    };
  }, [map, depot, depotName, drop, dropLabel, zones, blocking, legs]);
  return <MapView label={props.label} onReady={onReady} class="planning-map" />;
}

/** The zones a refusal names (`no-fly zone "Name": …`). */
function zonesNamed(reasons: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const reason of reasons) {
    const match = /^no-fly zone "([^"]+)"/.exec(reason);
    if (match?.[1] !== undefined) names.add(match[1]);
  }
  return names;
}

function ZoneList(props: { readonly zones: readonly Zone[]; readonly error: unknown }) {
  if (props.error !== undefined) return <ErrorNote error={props.error} />;
  return <p class="hint">{props.zones.length === 0 ? 'No no-fly zones are configured.' : `No-fly zones on the map (dashed red): ${props.zones.map((z) => z.name).join(', ')}.`}</p>;
}

export default function MissionsScreen() {
  const { path } = useLocation();
  const rest = path.slice(MISSIONS_PATH.length);
  if (rest.startsWith('/') && rest.length > 1) return <MissionPage id={decodeURIComponent(rest.slice(1))} />;
  return <PlanMission />;
}

function PlanMission() {
  const { query, route: go } = useLocation();
  const { depots, error: depotError } = useDepots();
  const canPlan = usePermission('route.manage');
  const { zones, error: zoneError } = useZones();
  const depot = query['depot'] ?? '';
  const [shipments, setShipments] = useState<readonly Shipment[] | undefined>(undefined);
  const [drones, setDrones] = useState<readonly Drone[] | undefined>(undefined);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [shipmentId, setShipmentId] = useState('');
  const [droneId, setDroneId] = useState('');
  const [busy, setBusy] = useState(false);
  const [refusal, setRefusal] = useState<unknown>(undefined);

  useEffect(() => {
    const first = depots?.[0];
    if (depot === '' && first !== undefined) go(hrefWith(MISSIONS_PATH, { depot: first.id }), true);
  }, [depots, depot, go]);

  useEffect(() => {
    if (depot === '') return undefined;
    let live = true;
    setShipments(undefined);
    setDrones(undefined);
    setLoadError(undefined);
    setRefusal(undefined);
    void Promise.all([
      api(() => client.GET('/api/v1/shipments', { params: { query: { depot, mode: 'drone', status: ['created'], sort: 'windowStart', limit: 100 } } })),
      api(() => client.GET('/api/v1/drones', { params: { query: { depot, status: 'active', limit: 100 } } })),
    ])
      .then(([waiting, fleet]) => {
        if (!live) return;
        setShipments(waiting.items);
        setDrones(fleet.items);
      })
      .catch((failure: unknown) => {
        if (!live) return;
        setShipments([]);
        setDrones([]);
        setLoadError(failure);
      });
    return () => {
      live = false;
    };
  }, [depot]);

  const shipment = shipments?.find((s) => s.id === shipmentId) ?? shipments?.[0];
  const drone = drones?.find((d) => d.id === droneId) ?? drones?.[0];
  const home: Depot | undefined = depots?.find((d) => d.id === depot);
  const reasons = useMemo(() => (refusal instanceof ApiError && refusal.code === 'planning.mission_refused' && refusal.detail !== undefined ? refusal.detail.split('; ') : undefined), [refusal]);
  const blocking = useMemo(() => zonesNamed(reasons ?? []), [reasons]);
  const existing = refusal instanceof ApiError ? MISSION_ID.exec(refusal.detail ?? '')?.[0] : undefined;

  const plan = async () => {
    if (shipment === undefined || drone === undefined) return;
    setBusy(true);
    setRefusal(undefined);
    try {
      const mission = await api(() => client.POST('/api/v1/shipments/{id}/mission', { params: { path: { id: shipment.id } }, body: { droneId: drone.id } }));
      go(`${MISSIONS_PATH}/${encodeURIComponent(mission.id)}`);
    } catch (failure) {
      setRefusal(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="missions-title">
      <h1 id="missions-title">Drone missions</h1>
      <div class="toolbar planning-filters">
        <DepotSelect depots={depots} value={depot} onChange={(value) => go(hrefWith(MISSIONS_PATH, { depot: value }))} />
      </div>
      <ErrorNote error={depotError} />
      <ErrorNote error={loadError} />
      <div class="planning-split">
        <MissionMap
          depot={home === undefined ? undefined : [home.location.lat, home.location.lon]}
          depotName={home?.name ?? depot}
          drop={shipment === undefined ? undefined : [shipment.destination.lat, shipment.destination.lon]}
          dropLabel={shipment === undefined ? '' : `Drop point of ${shipment.trackingNumber}`}
          zones={zones}
          blocking={blocking}
          legs={undefined}
          label="Map: depot, drop point, the straight leg between them, and the no-fly zones"
        />
        <div class="planning-side">
          <h2>Plan a mission</h2>
          <p role="status" class="planning-status">
            {shipments === undefined ? (depot === '' ? 'Choose a depot.' : 'Loading…') : `${plural(shipments.length, 'drone delivery waits', 'drone deliveries wait')} for dispatch; ${plural(drones?.length ?? 0, 'active drone', 'active drones')}.`}
          </p>
          {shipments !== undefined && shipments.length === 0 ? <p>No drone delivery of this depot waits for a mission.</p> : null}
          {shipment === undefined ? null : (
            <>
              <Select label="Drone delivery" value={shipment.id} onChange={(value) => { setShipmentId(value); setRefusal(undefined); }}>
                {(shipments ?? []).map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.trackingNumber} · {s.parcel.weightKg} kg
                  </option>
                ))}
              </Select>
              <dl class="facts">
                <dt>Window</dt>
                <dd><Time iso={shipment.window.start} /> – <Time iso={shipment.window.end} style="clock" /></dd>
                <dt>Parcel</dt>
                <dd>{shipment.parcel.weightKg} kg</dd>
              </dl>
            </>
          )}
          {drones !== undefined && drones.length === 0 ? <p>This depot has no active drone.</p> : null}
          {drone === undefined || shipment === undefined ? null : (
            <Select label="Drone" value={drone.id} onChange={(value) => { setDroneId(value); setRefusal(undefined); }}>
              {(drones ?? []).map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name} ({d.id}) · {d.maxRangeKm ?? '?'} km · {d.maxPayloadKg} kg{d.deviceId === null ? ' · no device' : ''}
                </option>
              ))}
            </Select>
          )}
          {canPlan && drone !== undefined && shipment !== undefined ? <Button busy={busy} onClick={() => void plan()}>Plan mission</Button> : null}
          {!canPlan ? <p class="hint">Your role may look at missions but not plan them.</p> : null}
          {reasons === undefined ? (
            <ErrorNote error={refusal} />
          ) : (
            <div class="error-note" role="alert">
              <p><strong>{refusal instanceof ApiError ? refusal.title : 'Drone mission refused'}</strong>: the drone may not fly this delivery.</p>
              <ul class="planning-reasons">
                {reasons.map((reason) => <li key={reason}>{reason}</li>)}
              </ul>
            </div>
          )}
          {existing === undefined ? null : <p><a href={`${MISSIONS_PATH}/${existing}`}>Open mission {existing}</a></p>}
          <ZoneList zones={zones} error={zoneError} />
        </div>
      </div>
    </section>
  );
}

function MissionPage(props: { readonly id: string }) {
  const { id } = props;
  const canSend = usePermission('route.manage');
  const { zones, error: zoneError } = useZones();
  const [mission, setMission] = useState<Mission | undefined>(undefined);
  const [tracking, setTracking] = useState<string | undefined>(undefined);
  const [depotName, setDepotName] = useState<string | undefined>(undefined);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [sendError, setSendError] = useState<unknown>(undefined);
  const [sent, setSent] = useState('');
  const [busy, setBusy] = useState(false);
  const doc = useMemo(() => readMission(mission?.mission), [mission]);
  const legs = useMemo(() => doc.waypoints.map((w): LatLng => [w.lat, w.lon]), [doc]);

  useEffect(() => {
    let live = true;
    api(() => client.GET('/api/v1/missions/{id}', { params: { path: { id } } }))
      .then((loaded) => {
        if (!live) return;
        setMission(loaded);
        api(() => client.GET('/api/v1/shipments/{id}', { params: { path: { id: loaded.shipmentId } } }))
          .then((s) => setTracking(s.trackingNumber))
          .catch(() => setTracking(undefined));
        api(() => client.GET('/api/v1/depots/{id}', { params: { path: { id: loaded.depotId } } }))
          .then((d) => setDepotName(d.name))
          .catch(() => setDepotName(undefined));
      })
      .catch((failure: unknown) => {
        if (live) setLoadError(failure);
      });
    return () => {
      live = false;
    };
  }, [id]);

  const send = async () => {
    setBusy(true);
    setSendError(undefined);
    setSent('');
    try {
      const updated = await api(() => client.POST('/api/v1/missions/{id}/send', { params: { path: { id } } }));
      setMission(updated);
      setSent('Sent to the drone.');
    } catch (failure) {
      setSendError(failure);
    } finally {
      setBusy(false);
    }
  };

  if (mission === undefined) {
    return (
      <section>
        <p class="planning-crumbs"><a href={MISSIONS_PATH}>Drone missions</a></p>
        <h1>Drone mission</h1>
        {loadError === undefined ? <p role="status">Loading the mission…</p> : <ErrorNote error={loadError} />}
      </section>
    );
  }
  const first = doc.waypoints[0];
  const drop = doc.waypoints.find((w) => w.action === 'drop') ?? doc.waypoints[1];
  const subject = tracking ?? mission.shipmentId;
  return (
    <section aria-labelledby="mission-title">
      <p class="planning-crumbs"><a href={hrefWith(MISSIONS_PATH, { depot: mission.depotId })}>Drone missions</a></p>
      <h1 id="mission-title">Mission for {subject}</h1>
      <div class="planning-split">
        <MissionMap
          depot={first === undefined ? undefined : [first.lat, first.lon]}
          depotName={depotName ?? mission.depotId}
          drop={drop === undefined ? undefined : [drop.lat, drop.lon]}
          dropLabel={`Drop point of ${subject}`}
          zones={zones}
          blocking={NONE}
          legs={legs}
          label="Map of the mission: its legs, the depot, the drop point and the no-fly zones"
        />
        <div class="planning-side">
          <dl class="facts">
            <dt>Status</dt>
            <dd><span class={`badge ${mission.status === 'sent' ? 'ok' : ''}`}>{mission.status === 'sent' ? 'Sent' : 'Planned'}</span></dd>
            <dt>Mission</dt>
            <dd><code>{mission.id}</code></dd>
            <dt>Drone</dt>
            <dd>{mission.droneId}{doc.deviceId === undefined ? null : <> (device <code>{doc.deviceId}</code>)</>}</dd>
            <dt>Depot</dt>
            <dd>{depotName ?? mission.depotId}</dd>
            <dt>Round trip</dt>
            <dd>{doc.distanceMetres === undefined ? '—' : formatDistance(doc.distanceMetres)}{doc.estimatedDurationSeconds === undefined ? null : ` · about ${formatDuration(doc.estimatedDurationSeconds)} at cruise speed`}</dd>
            <dt>Cruise altitude</dt>
            <dd>{doc.cruiseAltitudeM === undefined ? '—' : `${doc.cruiseAltitudeM} m`}</dd>
            <dt>Planned</dt>
            <dd><Time iso={mission.createdAt} /></dd>
            <dt>Sent</dt>
            <dd><Time iso={mission.sentAt} /></dd>
          </dl>
          {canSend && mission.status === 'planned' ? <Button busy={busy} onClick={() => void send()}>Send to the drone</Button> : null}
          <p role="status" class="planning-status">{sent}</p>
          <ErrorNote error={sendError} />
          <ZoneList zones={zones} error={zoneError} />
        </div>
      </div>
      <h2>Waypoints</h2>
      <table class="data planning-waypoints">
        <caption class="planning-sr">Waypoints in flying order</caption>
        <TableHead columns={['#', 'Action', 'Latitude', 'Longitude', 'Altitude']} />
        <tbody>
          {doc.waypoints.map((w) => (
            <tr key={w.sequence}>
              <td>{w.sequence}</td>
              <td>{w.action}</td>
              <td>{w.lat.toFixed(5)}</td>
              <td>{w.lon.toFixed(5)}</td>
              <td>{w.altitudeM} m</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
