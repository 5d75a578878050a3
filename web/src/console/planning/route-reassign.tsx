import { useState } from 'preact/hooks';
import { api, client } from '../../api/client.ts';
import type { Ok } from '../../api/types.ts';
import { Button } from '../../ui/form.tsx';
import { plural, Select, type RouteDetail, type RouteSummary, type Stop } from './common.tsx';

// The Reassign panel of a route's page: a stop moved to another route of the
// same day, a waiting shipment added, a stop removed (after confirming). Each
// change goes through the page's `change`, which reloads the route from the
// answer and says what happened.

type Shipment = Ok<'/api/v1/shipments', 'get'>['items'][number];

export type Change = (run: () => Promise<{ route: RouteDetail; fallbackReason?: string | undefined; said: string } | undefined>) => Promise<void>;

/** Moving a stop to another route, adding a waiting shipment, removing a stop (after confirming). */
export function Reassign(props: { readonly route: RouteDetail; readonly siblings: readonly RouteSummary[]; readonly waiting: readonly Shipment[]; readonly names: ReadonlyMap<string, string>; readonly busy: boolean; readonly fallback: boolean; readonly change: Change }) {
  const { route, siblings, waiting, names, busy, fallback, change } = props;
  const pending = route.stops.filter((s) => s.status === 'pending');
  const [stopId, setStopId] = useState('');
  const [target, setTarget] = useState('');
  const [shipmentId, setShipmentId] = useState('');
  const [removing, setRemoving] = useState<string | undefined>(undefined);
  const chosenStop = pending.find((s) => s.id === stopId) ?? pending[0];
  const chosenTarget = siblings.find((r) => r.id === target) ?? siblings[0];
  const chosenShipment = waiting.find((s) => s.id === shipmentId) ?? waiting[0];
  const routeName = (r: RouteSummary) => `${names.get(r.driverId) ?? r.driverId} · ${r.vehicleId}`;

  const moveStop = () => {
    if (chosenStop === undefined || chosenTarget === undefined) return;
    void change(async () => {
      const moved = await api(() => client.POST('/api/v1/routes/{id}/stops/{stopId}/move', { params: { path: { id: route.id, stopId: chosenStop.id } }, body: { routeId: chosenTarget.id, fallback } }));
      return { route: moved.from, fallbackReason: moved.fallbackReason, said: `Moved ${chosenStop.trackingNumber} to the route of ${routeName(chosenTarget)}.` };
    });
  };
  const addShipment = () => {
    if (chosenShipment === undefined) return;
    void change(async () => {
      const added = await api(() => client.POST('/api/v1/routes/{id}/stops', { params: { path: { id: route.id } }, body: { shipmentId: chosenShipment.id, fallback } }));
      return { route: added, fallbackReason: added.fallbackReason, said: `Added ${chosenShipment.trackingNumber} as the last stop.` };
    });
  };
  const remove = (stop: Stop) => {
    setRemoving(undefined);
    void change(async () => {
      const removed = await api(() => client.DELETE('/api/v1/routes/{id}/stops/{stopId}', { params: { path: { id: route.id, stopId: stop.id }, query: { fallback } } }));
      return { route: removed, fallbackReason: removed.fallbackReason, said: `Removed ${stop.trackingNumber}; its shipment waits for a route again.` };
    });
  };
  const removingStop = pending.find((s) => s.id === removing);

  return (
    <section aria-labelledby="reassign-title" class="planning-reassign">
      <h2 id="reassign-title">Reassign</h2>
      <p class="hint">The crew of a route stays as planned; to give stops to another driver and vehicle, move them to that route.</p>
      <div class="planning-reassign-grid">
        <div class="card">
          <h3>Move a stop to another route</h3>
          {pending.length === 0 ? <p>No pending stop to move.</p> : siblings.length === 0 ? <p>No other planned route on {route.date} at this depot.</p> : (
            <>
              <Select label="Stop" value={chosenStop?.id ?? ''} onChange={setStopId}>
                {pending.map((s) => <option key={s.id} value={s.id}>{s.trackingNumber}</option>)}
              </Select>
              <Select label="To the route of" value={chosenTarget?.id ?? ''} onChange={setTarget}>
                {siblings.map((r) => <option key={r.id} value={r.id}>{routeName(r)}</option>)}
              </Select>
              <Button busy={busy} onClick={moveStop}>Move stop</Button>
            </>
          )}
        </div>
        <div class="card">
          <h3>Add a waiting shipment</h3>
          {waiting.length === 0 ? <p>No truck shipment of this depot waits for a route on {route.date}.</p> : (
            <>
              <Select label="Shipment" value={chosenShipment?.id ?? ''} onChange={setShipmentId} hint={plural(waiting.length, 'shipment waits', 'shipments wait')}>
                {waiting.map((s) => <option key={s.id} value={s.id}>{s.trackingNumber}</option>)}
              </Select>
              <Button busy={busy} onClick={addShipment}>Add to route</Button>
            </>
          )}
        </div>
        <div class="card">
          <h3>Remove a stop</h3>
          {pending.length === 0 ? <p>No pending stop to remove.</p> : removingStop === undefined ? (
            <>
              <Select label="Stop to remove" value={chosenStop?.id ?? ''} onChange={setStopId}>
                {pending.map((s) => <option key={s.id} value={s.id}>{s.trackingNumber}</option>)}
              </Select>
              <Button kind="danger" busy={busy} onClick={() => setRemoving(chosenStop?.id)}>Remove from route…</Button>
            </>
          ) : (
            <div role="alertdialog" aria-labelledby="remove-question" class="planning-confirm">
              <p id="remove-question">Remove {removingStop.trackingNumber} from this route? Its shipment goes back to waiting for a route.</p>
              <Button kind="danger" busy={busy} onClick={() => remove(removingStop)}>Remove {removingStop.trackingNumber}</Button>
              <Button kind="secondary" onClick={() => setRemoving(undefined)}>Keep it</Button>
            </div>
          )}
        </div>
      </div>
    </section>
  );
}
