import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, client } from '../../api/client.ts';
import type { Ok } from '../../api/types.ts';
import { Button, ErrorNote } from '../../ui/form.tsx';
import { Check, FallbackNote, formatDistance, formatDuration, hrefWith, RouteStatusBadge, STOP_STATUS, Time, useDriverNames, usePermission, type RouteDetail, type RouteSummary, type Stop } from './common.tsx';
import { RouteMap } from './route-map.tsx';
import { Reassign } from './route-reassign.tsx';
import { TableHead } from '../../ui/table.tsx';

// One route: the map beside its stops in visiting order. A dispatcher puts
// the pending stops in a new order by dragging them or with the Move up /
// Move down buttons; each order is saved at once. The order is sent only if
// the route is still at the revision shown (otherwise the change is refused
// here, the route reloaded and the person told); the server checks again as it
// writes. Stops move to another route of the same day, shipments are added
// and stops removed while the route is planned; "Optimise again" lets the
// planner choose the order. The map redraws from every answer.

type Shipment = Ok<'/api/v1/shipments', 'get'>['items'][number];
type History = Ok<'/api/v1/routes/{id}/history', 'get'>['items'];

export const ROUTES_PATH = '/console/routes';

const conflictText = (shown: number, now: number) => `The route changed while you were looking at it (revision ${shown}, now ${now}), so your change was not saved. It has been reloaded: check the order and make your change again.`;

function move<T>(items: readonly T[], from: number, to: number): T[] {
  const next = [...items];
  const [item] = next.splice(from, 1);
  if (item !== undefined) next.splice(to, 0, item);
  return next;
}

export function RoutePage(props: { readonly id: string }) {
  const { id } = props;
  const canManage = usePermission('route.manage');
  const canSeeDepots = usePermission('depot.read');
  const [route, setRoute] = useState<RouteDetail | undefined>(undefined);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [conflict, setConflict] = useState<string | undefined>(undefined);
  const [status, setStatus] = useState('');
  const [fallbackReason, setFallbackReason] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [fallback, setFallback] = useState(false);
  // The order shown while a new one is being saved.
  const [draft, setDraft] = useState<readonly string[] | undefined>(undefined);
  const [depotName, setDepotName] = useState<string | undefined>(undefined);
  const [siblings, setSiblings] = useState<readonly RouteSummary[]>([]);
  const [waiting, setWaiting] = useState<readonly Shipment[]>([]);
  const [history, setHistory] = useState<History | undefined>(undefined);
  const [historyOpen, setHistoryOpen] = useState(false);
  const [dragging, setDragging] = useState<string | undefined>(undefined);
  const [over, setOver] = useState<string | undefined>(undefined);
  const focusAfter = useRef<{ stopId: string; direction: 'up' | 'down' } | undefined>(undefined);
  const list = useRef<HTMLOListElement>(null);
  const names = useDriverNames(route?.depotId);

  const load = useCallback(async () => {
    try {
      const loaded = await api(() => client.GET('/api/v1/routes/{id}', { params: { path: { id } } }));
      setRoute(loaded);
      setLoadError(undefined);
      return loaded;
    } catch (failure) {
      setLoadError(failure);
      return undefined;
    }
  }, [id]);

  useEffect(() => {
    setRoute(undefined);
    setHistory(undefined);
    void load();
  }, [load]);

  const depotId = route?.depotId;
  const date = route?.date;
  const editable = route?.status === 'planned';
  const revision = route?.revision;
  useEffect(() => {
    if (depotId === undefined || !canSeeDepots) return;
    api(() => client.GET('/api/v1/depots/{id}', { params: { path: { id: depotId } } }))
      .then((depot) => setDepotName(depot.name))
      .catch(() => setDepotName(depotId));
  }, [depotId, canSeeDepots]);

  // The other routes of the day (to move a stop to) and the shipments still waiting for one.
  useEffect(() => {
    if (depotId === undefined || date === undefined || !canManage || !editable) return undefined;
    let live = true;
    const dayStart = `${date}T00:00:00.000Z`;
    const dayEnd = new Date(Date.parse(dayStart) + 86_400_000).toISOString();
    void Promise.all([
      api(() => client.GET('/api/v1/routes', { params: { query: { depot: depotId, date, status: 'planned', limit: 100 } } })).catch(() => ({ items: [] })),
      api(() => client.GET('/api/v1/shipments', { params: { query: { depot: depotId, mode: 'truck', status: ['created', 'failed'], windowFrom: dayStart, windowTo: dayEnd, sort: 'windowStart', limit: 100 } } })).catch(() => ({ items: [] })),
    ]).then(([routes, shipments]) => {
      if (!live) return;
      setSiblings(routes.items.filter((r) => r.id !== id));
      setWaiting(shipments.items.filter((s) => s.assignedDriverId === null));
    });
    return () => {
      live = false;
    };
  }, [depotId, date, canManage, editable, id, revision]);

  useEffect(() => {
    if (!historyOpen) return;
    api(() => client.GET('/api/v1/routes/{id}/history', { params: { path: { id } } }))
      .then((loaded) => setHistory(loaded.items))
      .catch((failure: unknown) => setError(failure));
  }, [historyOpen, id, revision]);

  // Keyboard moves keep the focus on the stop that moved.
  useEffect(() => {
    const wanted = focusAfter.current;
    if (wanted === undefined || list.current === null) return;
    const item = list.current.querySelector<HTMLElement>(`[data-stop="${CSS.escape(wanted.stopId)}"]`);
    const button = item?.querySelector<HTMLButtonElement>(`button[data-move="${wanted.direction}"]:not([aria-disabled="true"])`) ?? item?.querySelector<HTMLButtonElement>('button[data-move]:not([aria-disabled="true"])');
    if (button !== null && button !== undefined) {
      button.focus();
      focusAfter.current = undefined;
    }
  });

  /** Runs one change; a refusal is shown and the route reloaded, so what is shown is what the server holds. */
  const change = async (run: () => Promise<{ route: RouteDetail; fallbackReason?: string | undefined; said: string } | undefined>) => {
    if (busy) return;
    setBusy(true);
    setError(undefined);
    setConflict(undefined);
    setStatus('Saving…');
    try {
      const outcome = await run();
      if (outcome !== undefined) {
        setRoute(outcome.route);
        setFallbackReason(outcome.fallbackReason);
        setStatus(outcome.said);
      }
    } catch (failure) {
      setError(failure);
      setStatus('Not saved.');
      await load();
    } finally {
      setDraft(undefined);
      setBusy(false);
    }
  };

  if (loadError !== undefined && route === undefined) {
    return (
      <section>
        <p class="planning-crumbs"><a href={ROUTES_PATH}>Routes</a></p>
        <h1>Route</h1>
        <ErrorNote error={loadError} />
      </section>
    );
  }
  if (route === undefined) return <p role="status">Loading the route…</p>;

  const visited = route.stops.filter((s) => s.status !== 'pending');
  const pending = route.stops.filter((s) => s.status === 'pending');
  const pendingOrder = draft ?? pending.map((s) => s.id);
  const byId = new Map(route.stops.map((s) => [s.id, s]));
  const shown: Stop[] = [...visited, ...pendingOrder.map((stopId) => byId.get(stopId)).filter((s): s is Stop => s !== undefined)];
  const canReorder = canManage && (route.status === 'planned' || route.status === 'in_progress');
  const driver = names.get(route.driverId) ?? route.driverId;

  const saveOrder = (order: readonly string[], said: string) =>
    change(async () => {
      setDraft(order);
      // Compare-and-set on the server: only the route as shown may be reordered.
      try {
        const saved = await api(() => client.PUT('/api/v1/routes/{id}/order', { params: { path: { id } }, body: { stopIds: [...order], revision: route.revision, fallback } }));
        return { route: saved, fallbackReason: saved.fallbackReason, said };
      } catch (error) {
        if (!(error instanceof ApiError) || error.code !== 'delivery_route.not_editable') throw error;
        const current = await api(() => client.GET('/api/v1/routes/{id}', { params: { path: { id } } }));
        if (current.revision === route.revision) throw error;
        setRoute(current);
        setConflict(conflictText(route.revision, current.revision));
        setStatus('Not saved: the route changed meanwhile.');
        return undefined;
      }
    });

  const moveBy = (stop: Stop, delta: -1 | 1) => {
    const from = pendingOrder.indexOf(stop.id);
    const to = from + delta;
    if (from < 0 || to < 0 || to >= pendingOrder.length || busy) return;
    focusAfter.current = { stopId: stop.id, direction: delta < 0 ? 'up' : 'down' };
    void saveOrder(move(pendingOrder, from, to), `Moved ${stop.trackingNumber} to stop ${visited.length + to + 1}. Order saved.`);
  };

  const drop = (target: string) => {
    const moving = dragging;
    setDragging(undefined);
    setOver(undefined);
    if (moving === undefined || moving === target) return;
    const from = pendingOrder.indexOf(moving);
    const to = pendingOrder.indexOf(target);
    if (from < 0 || to < 0) return;
    const stop = byId.get(moving);
    void saveOrder(move(pendingOrder, from, to), `Moved ${stop?.trackingNumber ?? 'the stop'} to stop ${visited.length + to + 1}. Order saved.`);
  };

  const optimise = () =>
    change(async () => {
      const saved = await api(() => client.POST('/api/v1/routes/{id}/optimise', { params: { path: { id } }, body: { fallback } }));
      return { route: saved, fallbackReason: saved.fallbackReason, said: 'Optimised: the planner chose the order.' };
    });

  return (
    <section aria-labelledby="route-title" class="planning-route">
      <p class="planning-crumbs">
        <a href={hrefWith(ROUTES_PATH, { depot: route.depotId, date: route.date })}>Routes of {depotName ?? route.depotId} on {route.date}</a>
      </p>
      <h1 id="route-title">Route of {driver} on {route.date}</h1>
      <dl class="facts planning-facts">
        <dt>Status</dt>
        <dd><RouteStatusBadge status={route.status} /></dd>
        <dt>Driver</dt>
        <dd>{driver}</dd>
        <dt>Vehicle</dt>
        <dd>{route.vehicleId}</dd>
        <dt>Depot</dt>
        <dd>{depotName ?? route.depotId}</dd>
        <dt>Departs / returns</dt>
        <dd><Time iso={route.departureAt} style="clock" /> – <Time iso={route.returnAt} style="clock" /></dd>
        <dt>Distance / time</dt>
        <dd>{formatDistance(route.totalDistanceMetres)} · {formatDuration(route.totalDurationSeconds)} ({route.provider === 'osrm' ? 'road distances' : 'straight-line distances'})</dd>
        <dt>Revision</dt>
        <dd>{route.revision}</dd>
      </dl>

      {canReorder ? (
        <div class="toolbar planning-actions">
          <Button kind="secondary" busy={busy} onClick={() => void optimise()}>Optimise again</Button>
          <Check label="If the road router fails, use straight-line distances" checked={fallback} onChange={setFallback} />
        </div>
      ) : null}
      <FallbackNote reason={fallbackReason} />
      {conflict === undefined ? null : <div class="error-note" role="alert"><p>{conflict}</p></div>}
      <ErrorNote error={error} />

      <div class="planning-split">
        <RouteMap route={route} depotName={depotName ?? route.depotId} />
        <div class="planning-side">
          <h2 id="stops-title">Stops in visiting order</h2>
          <p class="hint" id="stops-hint">
            {canReorder ? 'Drag a pending stop onto another to put it there, or use its Up and Down buttons. Each change is saved at once.' : 'Visited stops first, then the pending ones in the order planned.'}
          </p>
          <p role="status" class="planning-status">{status}</p>
          {shown.length === 0 ? <p>This route has no stops left.</p> : null}
          <ol ref={list} class="planning-stops" aria-labelledby="stops-title" aria-describedby="stops-hint">
            {shown.map((stop, index) => {
              const pendingIndex = pendingOrder.indexOf(stop.id);
              const movable = canReorder && pendingIndex >= 0 && pendingOrder.length > 1;
              const classes = ['planning-stop', stop.status, dragging === stop.id ? 'dragging' : '', over === stop.id && dragging !== stop.id ? 'drop-target' : ''].filter((c) => c !== '').join(' ');
              return (
                <li
                  key={stop.id}
                  data-stop={stop.id}
                  class={classes}
                  draggable={movable && !busy}
                  onDragStart={(event) => {
                    if (!movable || event.dataTransfer === null) return;
                    event.dataTransfer.effectAllowed = 'move';
                    event.dataTransfer.setData('text/plain', stop.id);
                    setDragging(stop.id);
                  }}
                  onDragOver={(event) => {
                    if (dragging === undefined || pendingIndex < 0) return;
                    event.preventDefault();
                    if (event.dataTransfer !== null) event.dataTransfer.dropEffect = 'move';
                    setOver(stop.id);
                  }}
                  onDragLeave={() => setOver((current) => (current === stop.id ? undefined : current))}
                  onDrop={(event) => {
                    event.preventDefault();
                    drop(stop.id);
                  }}
                  onDragEnd={() => {
                    setDragging(undefined);
                    setOver(undefined);
                  }}
                >
                  <span class="planning-seq"><span class="planning-sr">Stop </span>{index + 1}</span>
                  <div class="planning-stop-body">
                    <strong class="planning-tracking">{stop.trackingNumber}</strong>{' '}
                    {stop.status === 'pending' ? null : <span class={`badge ${stop.status === 'failed' ? 'bad' : 'ok'}`}>{STOP_STATUS[stop.status]}</span>}
                    {stop.status === 'pending' && stop.latenessSeconds > 0 ? <span class="badge warn">Late by {formatDuration(stop.latenessSeconds)}</span> : null}
                    <span class="planning-stop-line">
                      Window <Time iso={stop.window.start} style="clock" />–<Time iso={stop.window.end} style="clock" /> · ETA <Time iso={stop.eta} style="clock" />
                    </span>
                    <span class="planning-stop-line muted">Leg {formatDistance(stop.legDistanceMetres)} · {formatDuration(stop.legDurationSeconds)}</span>
                  </div>
                  {movable ? (
                    <div class="planning-stop-actions">
                      <button type="button" class="button secondary planning-small" data-move="up" aria-label={`Move ${stop.trackingNumber} up`} aria-disabled={pendingIndex === 0 || busy ? 'true' : undefined} onClick={() => pendingIndex > 0 && moveBy(stop, -1)}>
                        Up
                      </button>
                      <button type="button" class="button secondary planning-small" data-move="down" aria-label={`Move ${stop.trackingNumber} down`} aria-disabled={pendingIndex === pendingOrder.length - 1 || busy ? 'true' : undefined} onClick={() => pendingIndex < pendingOrder.length - 1 && moveBy(stop, 1)}>
                        Down
                      </button>
                    </div>
                  ) : null}
                </li>
              );
            })}
          </ol>
        </div>
      </div>

      {canManage && editable ? <Reassign route={route} siblings={siblings} waiting={waiting} names={names} busy={busy} fallback={fallback} change={change} /> : null}
      {canManage && !editable ? <p class="hint">Stops are moved, added and removed only while a route is planned; once it has started its parcels are on the road.</p> : null}

      <details class="planning-history" onToggle={(event) => setHistoryOpen(event.currentTarget.open)}>
        <summary>History of this route</summary>
        {history === undefined ? (
          <p>Loading…</p>
        ) : (
          <table class="data">
            <caption class="planning-sr">Changes to the route, oldest first</caption>
            <TableHead columns={['#', 'When', 'Change', 'By']} />
            <tbody>
              {history.map((entry) => (
                <tr key={entry.seq}>
                  <td>{entry.seq}</td>
                  <td><Time iso={entry.at} /></td>
                  <td>{entry.kind.replaceAll('_', ' ')}</td>
                  <td>{entry.actor.id === null ? entry.actor.type : (names.get(entry.actor.id) ?? entry.actor.id)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </details>
    </section>
  );
}
