import { useCallback, useEffect, useId, useState } from 'preact/hooks';
import { api, client } from '../../api/client.ts';
import type { Ok } from '../../api/types.ts';
import { Button, ErrorNote } from '../../ui/form.tsx';
import { BackLink, ConfirmDialog, SelectField, ShownOnce, useAction } from '../admin/common.tsx';
import { Time, useDepots, useDriverNames, usePermission } from '../planning/common.tsx';
import { MODE, REASON, SHIPMENTS_PATH, STATUS, StatusBadge, trackingUrl, Window, type FailureReason, type ShipmentDetail, type ShipmentStatus } from './shipment-common.tsx';
import { ProofOfDelivery } from './shipment-proof.tsx';

// One shipment: what it is, who receives it (for those who may see recipient
// data), its driver, its status with the changes a dispatcher may make, its
// history oldest first, and its proof of delivery once delivered. Rotating the
// tracking link shows the new link once; the old one stops working at once.
// Every answer reloads the shipment and its history from the server.

type HistoryEntry = Ok<'/api/v1/shipments/{id}/history', 'get'>['items'][number];
type Issued = Ok<'/api/v1/shipments/{id}/tracking-token', 'post'>;
type NextStatus = 'out_for_delivery' | 'failed' | 'returned';

/** The changes the status endpoint takes from each status (delivered comes only with proof of delivery). */
const NEXT: Readonly<Record<ShipmentStatus, readonly NextStatus[]>> = {
  created: [],
  assigned: ['out_for_delivery'],
  out_for_delivery: ['failed', 'returned'],
  delivered: [],
  failed: ['returned'],
  returned: [],
};
const ASSIGNABLE: readonly ShipmentStatus[] = ['created', 'assigned', 'failed'];
const REASONS = Object.keys(REASON) as FailureReason[];

export function ShipmentPage(props: { readonly id: string }) {
  const { id } = props;
  const [shipment, setShipment] = useState<ShipmentDetail | undefined>(undefined);
  const [history, setHistory] = useState<readonly HistoryEntry[] | undefined>(undefined);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const names = useDriverNames(shipment?.depotId);
  const { depots } = useDepots();

  const load = useCallback(async () => {
    try {
      const [loaded, events] = await Promise.all([api(() => client.GET('/api/v1/shipments/{id}', { params: { path: { id } } })), api(() => client.GET('/api/v1/shipments/{id}/history', { params: { path: { id } } }))]);
      setShipment(loaded);
      setHistory(events.items);
      setLoadError(undefined);
    } catch (failure) {
      setLoadError(failure);
    }
  }, [id]);

  useEffect(() => {
    setShipment(undefined);
    setHistory(undefined);
    void load();
  }, [load]);

  if (shipment === undefined) {
    return (
      <section aria-labelledby="shipment-title">
        <BackLink href={SHIPMENTS_PATH}>Shipments</BackLink>
        <h1 id="shipment-title">Shipment</h1>
        <ErrorNote error={loadError} />
        {loadError === undefined ? <p role="status">Loading the shipment…</p> : null}
      </section>
    );
  }
  const driverName = (accountId: string | null) => (accountId === null ? undefined : (names.get(accountId) ?? accountId));
  return (
    <section aria-labelledby="shipment-title">
      <BackLink href={SHIPMENTS_PATH}>Shipments</BackLink>
      <div class="shipments-head">
        <h1 id="shipment-title">Shipment {shipment.trackingNumber}</h1>
        <StatusBadge status={shipment.status} />
      </div>
      <ErrorNote error={loadError} />
      <div class="shipments-columns">
        <div>
          <h2>Delivery</h2>
          <dl class="facts">
            <dt>Tracking number</dt>
            <dd><code>{shipment.trackingNumber}</code></dd>
            <dt>Reference</dt>
            <dd>{shipment.reference ?? '—'}</dd>
            <dt>Status</dt>
            <dd>{STATUS[shipment.status].label}{shipment.failureReason === null ? '' : ` (${REASON[shipment.failureReason]})`}</dd>
            <dt>Depot</dt>
            <dd>{depots?.find((d) => d.id === shipment.depotId)?.name ?? shipment.depotId}</dd>
            <dt>Mode</dt>
            <dd>{MODE[shipment.mode]}</dd>
            <dt>Window</dt>
            <dd><Window window={shipment.window} /></dd>
            <dt>Parcel</dt>
            <dd>{parcelText(shipment.parcel)}</dd>
            <dt>Proof required</dt>
            <dd>{shipment.requiredProof.join(', ')}</dd>
            <dt>Destination</dt>
            <dd>{shipment.destination.lat.toFixed(5)}, {shipment.destination.lon.toFixed(5)}</dd>
            <dt>Created</dt>
            <dd><Time iso={shipment.createdAt} /></dd>
            <dt>Last change</dt>
            <dd><Time iso={shipment.lastEventAt} /></dd>
          </dl>
        </div>
        <div>
          <h2>Recipient</h2>
          {shipment.recipient === null ? (
            <p class="shipments-muted">Your role does not see recipient data.</p>
          ) : (
            <dl class="facts" data-testid="recipient">
              <dt>Name</dt>
              <dd data-testid="recipient-name">{shipment.recipient.name}</dd>
              <dt>Phone</dt>
              <dd>{shipment.recipient.phone ?? '—'}</dd>
              <dt>Address</dt>
              <dd class="shipments-address">{shipment.recipient.address}</dd>
            </dl>
          )}
          <h2>Driver</h2>
          <p>{shipment.assignedDriverId === null ? 'Not assigned to a driver.' : `Assigned to ${driverName(shipment.assignedDriverId) ?? ''}.`}</p>
        </div>
      </div>
      <Actions shipment={shipment} names={names} onChanged={load} />
      {shipment.status === 'delivered' ? <ProofOfDelivery shipmentId={shipment.id} /> : null}
      <h2 id="history-title">History</h2>
      {history === undefined ? (
        <p role="status">Loading the history…</p>
      ) : (
        <ol class="shipments-history" aria-labelledby="history-title">
          {history.map((entry) => (
            <li key={entry.seq}>
              <span class="shipments-history-when"><Time iso={entry.at} /></span>
              <span class="shipments-history-what">
                {entry.from === null ? 'Created' : `${STATUS[entry.from].label} → ${STATUS[entry.to].label}`}
                {entry.reason === null ? '' : ` (${REASON[entry.reason]})`}
              </span>
              <span class="shipments-history-who">
                by {entry.actor.id === null ? entry.actor.type : (names.get(entry.actor.id) ?? entry.actor.id)}
                {entry.driverId === null ? '' : ` · driver ${driverName(entry.driverId) ?? ''}`}
              </span>
              {entry.note !== null ? <q class="shipments-history-note">{entry.note}</q> : entry.hasNote ? <span class="shipments-muted"> (a note you may not read)</span> : null}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function parcelText(parcel: ShipmentDetail['parcel']): string {
  const size = [parcel.lengthCm, parcel.widthCm, parcel.heightCm];
  return size.every((d) => d !== null) ? `${parcel.weightKg} kg, ${size.join(' × ')} cm` : `${parcel.weightKg} kg`;
}

/** What a dispatcher does to the shipment: assign, change the status, rotate the tracking link. */
function Actions(props: { readonly shipment: ShipmentDetail; readonly names: ReadonlyMap<string, string>; readonly onChanged: () => Promise<void> }) {
  const { shipment, names, onChanged } = props;
  const canManage = usePermission('shipment.manage');
  const canProgress = usePermission('shipment.progress');
  const action = useAction();
  const [driver, setDriver] = useState('');
  const [confirmRotate, setConfirmRotate] = useState(false);
  const [issued, setIssued] = useState<Issued | undefined>(undefined);
  const [done, setDone] = useState('');
  const path = { params: { path: { id: shipment.id } } };
  const drivers = [...names.entries()].map(([value, label]) => ({ value, label })).filter((d) => d.value !== shipment.assignedDriverId);
  const nextStatuses = NEXT[shipment.status].filter((s) => s !== 'returned' || canManage);
  const assignable = canManage && ASSIGNABLE.includes(shipment.status);

  const change = async (name: string, said: string, call: () => Promise<unknown>) => {
    setDone('');
    if (await action.run(name, async () => {
      await call();
      await onChanged();
    })) setDone(said);
  };

  if (!assignable && !(canProgress && nextStatuses.length > 0) && !canManage) return null;
  return (
    <div class="card shipments-actions">
      <h2>Actions</h2>
      <div role="status" aria-live="polite">{done === '' ? null : <p class="notice">{done}</p>}</div>
      <ErrorNote error={action.error} />
      {assignable ? (
        <div class="shipments-action">
          <h3>Driver</h3>
          {drivers.length === 0 ? (
            <p class="hint">No other driver has this depot as their home depot.</p>
          ) : (
            <div class="toolbar">
              <SelectField label="Assign to" name="driver" value={driver} options={[{ value: '', label: 'Choose a driver' }, ...drivers]} onChange={setDriver} />
              <Button busy={action.busy === 'assign'} disabled={driver === ''} onClick={() => void change('assign', `Assigned to ${names.get(driver) ?? driver}.`, () => api(() => client.PUT('/api/v1/shipments/{id}/assignment', { ...path, body: { driverId: driver } })))}>
                Assign
              </Button>
            </div>
          )}
          {shipment.status === 'assigned' ? (
            <Button kind="secondary" busy={action.busy === 'unassign'} onClick={() => void change('unassign', 'Unassigned: the shipment is waiting for a driver again.', () => api(() => client.DELETE('/api/v1/shipments/{id}/assignment', path)))}>
              Unassign
            </Button>
          ) : null}
        </div>
      ) : null}
      {canProgress && nextStatuses.length > 0 ? <StatusChange key={shipment.status} choices={nextStatuses} busy={action.busy === 'status'} onSubmit={(body) => void change('status', `Now ${STATUS[body.status].label.toLowerCase()}.`, () => api(() => client.POST('/api/v1/shipments/{id}/status', { ...path, body })))} /> : null}
      {canManage ? (
        <div class="shipments-action">
          <h3>Tracking link</h3>
          <p class="hint">The recipient follows the delivery with a private link. A new link replaces it: the old one stops working at once, so send the new one to the recipient.</p>
          <Button kind="secondary" onClick={() => setConfirmRotate(true)}>Rotate tracking link</Button>
        </div>
      ) : null}
      {issued === undefined ? null : (
        <ShownOnce title="The new tracking link" secrets={[{ label: 'Tracking link', value: trackingUrl(issued.trackingPath) }]} onDone={() => setIssued(undefined)}>
          <p>The previous link no longer works: anyone who opens it is told there is no such page.</p>
        </ShownOnce>
      )}
      {confirmRotate ? (
        <ConfirmDialog
          title="Rotate the tracking link?"
          confirmLabel="Rotate tracking link"
          onClose={() => setConfirmRotate(false)}
          onConfirm={async () => {
            setDone('');
            const answer = await api(() => client.POST('/api/v1/shipments/{id}/tracking-token', path));
            setIssued(answer);
            await onChanged();
          }}
        >
          <p>The recipient's current link to {shipment.trackingNumber} stops working now. The new link is shown once: copy it and send it to the recipient.</p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

function StatusChange(props: { readonly choices: readonly NextStatus[]; readonly busy: boolean; readonly onSubmit: (body: { status: NextStatus; reason?: FailureReason; note?: string }) => void }) {
  const noteId = useId();
  const [status, setStatus] = useState<NextStatus>(props.choices[0] ?? 'out_for_delivery');
  const [reason, setReason] = useState<FailureReason>('recipient_absent');
  const [note, setNote] = useState('');
  const needsNote = status === 'failed' && reason === 'other';
  const submit = (event: Event) => {
    event.preventDefault();
    const text = note.trim();
    props.onSubmit({ status, ...(status === 'failed' ? { reason } : {}), ...(text === '' ? {} : { note: text }) });
  };
  return (
    <form class="shipments-action" onSubmit={submit}>
      <h3>Status</h3>
      <p class="hint">Delivered comes only with the driver's proof of delivery.</p>
      <div class="toolbar">
        <SelectField label="New status" name="status" value={status} options={props.choices.map((s) => ({ value: s, label: STATUS[s].label }))} onChange={(value) => setStatus(props.choices.find((s) => s === value) ?? status)} />
        {status === 'failed' ? <SelectField label="Reason" name="reason" value={reason} options={REASONS.map((r) => ({ value: r, label: REASON[r] }))} onChange={(value) => setReason(REASONS.find((r) => r === value) ?? reason)} /> : null}
      </div>
      {status === 'out_for_delivery' ? null : (
        <div class="field">
          <label for={noteId}>Note {needsNote ? '(required)' : '(optional)'}</label>
          <textarea id={noteId} name="note" rows={2} maxLength={500} required={needsNote} value={note} onInput={(event) => setNote(event.currentTarget.value)} />
        </div>
      )}
      <Button type="submit" busy={props.busy}>Change status</Button>
    </form>
  );
}
