import { useEffect, useState } from 'preact/hooks';
import { api, client } from '../../api/client.ts';
import type { paths } from '../../api/schema.gen.ts';
import type { Ok } from '../../api/types.ts';
import { Button, ErrorNote, Field } from '../../ui/form.tsx';
import { BackLink, CheckGroup, problemsOf, SelectField, ShownOnce, useAction } from '../admin/common.tsx';
import { DateTimeField, localInputToIso } from '../audit/format.tsx';
import { DepotSelect, useDepots, usePermission } from '../planning/common.tsx';
import { MODE, MODES, NoShipmentCreation, shipmentHref, SHIPMENTS_PATH, trackingUrl, type DeliveryMode } from './shipment-common.tsx';

// A new shipment, typed in: depot, recipient, destination, parcel, mode,
// window and the proof the recipient must give. The server checks it all
// (depot, service area, unique reference) and says what is wrong beside each
// field; once created, its tracking link is shown once.

type Created = Ok<'/api/v1/shipments', 'post'>;
type CreateBody = paths['/api/v1/shipments']['post']['requestBody']['content']['application/json'];
type Proof = 'signature' | 'photo' | 'pin';

const PROOFS: readonly { value: Proof; label: string }[] = [
  { value: 'signature', label: 'Signature' },
  { value: 'photo', label: 'Photo at the door' },
  { value: 'pin', label: 'Delivery PIN' },
];

interface Draft {
  depotId: string;
  reference: string;
  name: string;
  phone: string;
  address: string;
  lat: string;
  lon: string;
  weightKg: string;
  lengthCm: string;
  widthCm: string;
  heightCm: string;
  mode: DeliveryMode;
  start: string;
  end: string;
  proof: Proof[];
}

const EMPTY: Draft = { depotId: '', reference: '', name: '', phone: '', address: '', lat: '', lon: '', weightKg: '', lengthCm: '', widthCm: '', heightCm: '', mode: 'truck', start: '', end: '', proof: ['signature'] };

function numberOr(value: string): number | undefined {
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : undefined;
}

/** The API body, or the first problems found before sending (numbers and times the server could not read at all). */
function bodyOf(draft: Draft): { body: CreateBody } | { problems: Record<string, string> } {
  const problems: Record<string, string> = {};
  const lat = numberOr(draft.lat);
  const lon = numberOr(draft.lon);
  const weightKg = numberOr(draft.weightKg);
  const start = localInputToIso(draft.start);
  const end = localInputToIso(draft.end);
  if (lat === undefined) problems['lat'] = 'a latitude such as 52.52';
  if (lon === undefined) problems['lon'] = 'a longitude such as 13.405';
  if (weightKg === undefined) problems['weightKg'] = 'the weight in kilograms, such as 2.5';
  if (start === undefined) problems['start'] = 'when the window opens';
  if (end === undefined) problems['end'] = 'when the window closes';
  const dimension = (name: 'lengthCm' | 'widthCm' | 'heightCm') => {
    if (draft[name].trim() === '') return null;
    const n = numberOr(draft[name]);
    if (n === undefined) problems[name] = 'centimetres, such as 30, or nothing';
    return n ?? null;
  };
  const parcel = { weightKg: weightKg ?? 0, lengthCm: dimension('lengthCm'), widthCm: dimension('widthCm'), heightCm: dimension('heightCm') };
  if (Object.keys(problems).length > 0 || lat === undefined || lon === undefined || start === undefined || end === undefined) return { problems };
  return {
    body: {
      depotId: draft.depotId,
      ...(draft.reference.trim() === '' ? {} : { reference: draft.reference.trim() }),
      recipient: { name: draft.name.trim(), address: draft.address.trim(), ...(draft.phone.trim() === '' ? {} : { phone: draft.phone.trim() }) },
      destination: { lat, lon },
      parcel,
      mode: draft.mode,
      window: { start, end },
      requiredProof: draft.proof,
    },
  };
}

function sendCreate(body: CreateBody) {
  return api(() => client.POST('/api/v1/shipments', { body }));
}

export function NewShipmentPage() {
  const canManage = usePermission('shipment.manage');
  const { depots, error: depotError } = useDepots();
  const [draft, setDraft] = useState<Draft>(EMPTY);
  // What the page found before sending; once the server refuses, its field problems instead.
  const [checkProblems, setCheckProblems] = useState<Record<string, string>>({});
  const action = useAction();
  const problems = action.error === undefined ? checkProblems : problemsOf(action.error);
  const [created, setCreated] = useState<Created | undefined>(undefined);

  useEffect(() => {
    const first = depots?.[0];
    if (first !== undefined) setDraft((d) => (d.depotId === '' ? { ...d, depotId: first.id } : d));
  }, [depots]);

  if (!canManage) return <NoShipmentCreation titleId="new-title" title="New shipment" />;

  const set = <K extends keyof Draft>(name: K) => (value: Draft[K]) => setDraft((d) => ({ ...d, [name]: value }));
  const submit = (event: Event) => {
    event.preventDefault();
    action.clear();
    const checked = bodyOf(draft);
    if ('problems' in checked) {
      setCheckProblems(checked.problems);
      return;
    }
    setCheckProblems({});
    void action.run('create', async () => {
      setCreated(await sendCreate(checked.body));
      setDraft((d) => ({ ...EMPTY, depotId: d.depotId }));
    });
  };

  return (
    <section aria-labelledby="new-title">
      <BackLink href={SHIPMENTS_PATH}>Shipments</BackLink>
      <h1 id="new-title">New shipment</h1>
      {created === undefined ? null : (
        <ShownOnce title={`Shipment ${created.shipment.trackingNumber} created`} secrets={[{ label: 'Tracking link', value: trackingUrl(created.trackingPath) }]} onDone={() => setCreated(undefined)}>
          <p>
            Send the tracking link to the recipient. <a href={shipmentHref(created.shipment.id)}>Open the shipment</a>.
          </p>
        </ShownOnce>
      )}
      <form class="card admin-form" onSubmit={submit}>
        <div class="admin-form-grid">
          <DepotSelect depots={depots} value={draft.depotId} onChange={set('depotId')} />
          <Field label="Reference (optional)" name="reference" value={draft.reference} onInput={set('reference')} problem={problems['reference']} hint="Your own order number; it must be unique." />
        </div>
        <h2>Recipient</h2>
        <div class="admin-form-grid">
          <Field label="Recipient name" name="name" value={draft.name} onInput={set('name')} required problem={problems['name']} autoComplete="off" />
          <Field label="Phone (optional)" name="phone" value={draft.phone} onInput={set('phone')} problem={problems['phone']} autoComplete="off" hint="International form, such as +49 30 1234567." />
          <Field label="Address" name="address" value={draft.address} onInput={set('address')} required problem={problems['address']} autoComplete="off" />
          <Field label="Destination latitude" name="lat" inputMode="text" value={draft.lat} onInput={set('lat')} required problem={problems['lat']} />
          <Field label="Destination longitude" name="lon" inputMode="text" value={draft.lon} onInput={set('lon')} required problem={problems['lon']} />
        </div>
        <h2>Parcel and delivery</h2>
        <div class="admin-form-grid">
          <Field label="Weight (kg)" name="weightKg" value={draft.weightKg} onInput={set('weightKg')} required problem={problems['weightKg']} />
          <Field label="Length (cm, optional)" name="lengthCm" value={draft.lengthCm} onInput={set('lengthCm')} problem={problems['lengthCm']} />
          <Field label="Width (cm, optional)" name="widthCm" value={draft.widthCm} onInput={set('widthCm')} problem={problems['widthCm']} />
          <Field label="Height (cm, optional)" name="heightCm" value={draft.heightCm} onInput={set('heightCm')} problem={problems['heightCm']} />
          <SelectField label="Mode" name="mode" value={draft.mode} options={MODES.map((m) => ({ value: m, label: MODE[m] }))} onChange={(value) => set('mode')(MODES.find((m) => m === value) ?? 'truck')} />
          <DateTimeField label="Window opens" name="start" value={draft.start} onInput={set('start')} />
          <DateTimeField label="Window closes" name="end" value={draft.end} onInput={set('end')} />
        </div>
        {problems['start'] === undefined && problems['end'] === undefined ? null : <p class="field-problem">{problems['start'] ?? problems['end']}</p>}
        <CheckGroup legend="Proof the recipient gives" options={PROOFS} selected={draft.proof} onChange={(chosen) => set('proof')(PROOFS.map((p) => p.value).filter((p) => chosen.includes(p)))} />
        <ErrorNote error={depotError} />
        <ErrorNote error={action.error} />
        <Button type="submit" busy={action.busy === 'create'} disabled={draft.depotId === ''}>Create shipment</Button>
      </form>
    </section>
  );
}
