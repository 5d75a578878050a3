import { useEffect, useState } from 'preact/hooks';
import { api, client } from '../../api/client.ts';
import type { Ok } from '../../api/types.ts';
import { Button, ErrorNote, Field } from '../../ui/form.tsx';
import { Badge, ConfirmDialog, count, NoticeLine, NumberField, plural, problemsOf, SelectField, Time, useAction, usePermission } from './common.tsx';
import { TableHead } from '../../ui/table.tsx';

// The event hubs devices publish telemetry to: their partitions, retention
// and content rules. Anyone reading telemetry sees the list; administrators
// (`hub.manage`, with the second factor again) create hubs and change an
// API-created hub's retention and rules. Hubs from the configuration change
// only there, and say so.

type Hub = Ok<'/api/v1/hubs', 'get'>['hubs'][number];
type Schema = Hub['schema'];
type OnInvalid = Hub['onInvalid'];

const MIB = 1_048_576;
const MAX_MIB = 1_048_576;
const SCHEMAS: Record<Schema, string> = { none: 'None (any JSON)', drone: 'Drone telemetry', truck: 'Truck telemetry' };
const ON_INVALID: Record<OnInvalid, string> = { refuse: 'Refuse the event', flag: 'Store it, flagged' };

function isSchema(value: string): value is Schema {
  return value in SCHEMAS;
}

function isOnInvalid(value: string): value is OnInvalid {
  return value in ON_INVALID;
}

function hours(h: number): string {
  if (h % 24 === 0) return plural(h / 24, 'day', 'days');
  return plural(h, 'hour', 'hours');
}

function size(bytes: number): string {
  if (bytes >= 1024 * MIB && bytes % (1024 * MIB) === 0) return `${count(bytes / (1024 * MIB))} GiB`;
  return `${count(Math.round(bytes / MIB))} MiB`;
}

/** A whole number within bounds from a form field, or undefined. */
function whole(text: string, min: number, max: number): number | undefined {
  if (!/^\d+$/.test(text.trim())) return undefined;
  const n = Number(text);
  return n >= min && n <= max ? n : undefined;
}

export default function HubsScreen() {
  const canManage = usePermission('hub.manage');
  const [hubs, setHubs] = useState<readonly Hub[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<string | undefined>(undefined);
  const [notice, setNotice] = useState('');

  useEffect(() => {
    api(() => client.GET('/api/v1/hubs'))
      .then((list) => setHubs(list.hubs))
      .catch(setError);
  }, []);

  const put = (hub: Hub) => setHubs((list) => {
    const rest = (list ?? []).filter((h) => h.name !== hub.name);
    return [...rest, hub].sort((a, b) => a.name.localeCompare(b.name));
  });
  const sorted = [...(hubs ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  const current = sorted.find((h) => h.name === editing);

  return (
    <section aria-labelledby="hubs-title">
      <div class="admin-head">
        <h1 id="hubs-title">Event hubs</h1>
        {canManage && !adding ? <Button onClick={() => { setAdding(true); setEditing(undefined); }}>Add hub</Button> : null}
      </div>
      <p class="admin-lead">Devices publish telemetry to a hub; each device’s events stay in order in one partition. Old events are deleted after the retention time or once a partition holds more than its size limit.</p>
      <NoticeLine notice={notice} />
      {adding ? (
        <NewHub
          onCancel={() => setAdding(false)}
          onCreated={(hub) => {
            put(hub);
            setAdding(false);
            setNotice(`Hub ${hub.name} created: devices may publish to it now.`);
          }}
        />
      ) : null}
      {current === undefined ? null : (
        <ChangeHub
          key={current.name}
          hub={current}
          onCancel={() => setEditing(undefined)}
          onChanged={(hub) => {
            put(hub);
            setEditing(undefined);
            setNotice(`Hub ${hub.name} changed.`);
          }}
        />
      )}
      <ErrorNote error={error} />
      {hubs === undefined ? (
        error === undefined ? <p class="muted" role="status">Loading hubs…</p> : null
      ) : sorted.length === 0 ? (
        <p>No event hubs.</p>
      ) : (
        <table class="data">
          <caption class="admin-sr-only">Event hubs, by name</caption>
          <TableHead columns={['Name', 'Defined in', 'Partitions', 'Retention', 'Size limit (per partition)', 'Schema', 'Invalid events', 'Non-JSON', 'Changed']} actions={canManage} />
          <tbody>
            {sorted.map((hub) => (
              <tr key={hub.name}>
                <td class="admin-nowrap">
                  <code>{hub.name}</code>
                </td>
                <td>{hub.origin === 'config' ? <Badge>Configuration</Badge> : <Badge tone="ok">API</Badge>}</td>
                <td>{hub.partitions}</td>
                <td>{hours(hub.retentionHours)}</td>
                <td>{size(hub.retentionMaxBytes)}</td>
                <td>{SCHEMAS[hub.schema]}</td>
                <td>{hub.onInvalid === 'refuse' ? 'Refused' : 'Stored, flagged'}</td>
                <td>{hub.allowNonJson ? 'Accepted' : 'Refused'}</td>
                <td class="admin-nowrap">
                  <Time iso={hub.updatedAt} />
                </td>
                {canManage ? (
                  <td>
                    {hub.origin === 'api' ? (
                      <Button kind="secondary" label={`Change ${hub.name}`} onClick={() => { setEditing(hub.name); setAdding(false); }}>Change</Button>
                    ) : (
                      <span class="hint">Set in the configuration file</span>
                    )}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function NewHub(props: { readonly onCancel: () => void; readonly onCreated: (hub: Hub) => void }) {
  const [name, setName] = useState('');
  const [partitions, setPartitions] = useState('4');
  const [retention, setRetention] = useState('168');
  const [sizeMib, setSizeMib] = useState('1024');
  const [schema, setSchema] = useState<Schema>('none');
  const [onInvalid, setOnInvalid] = useState<OnInvalid>('refuse');
  const [allowNonJson, setAllowNonJson] = useState(false);
  const [local, setLocal] = useState<Record<string, string>>({});
  const action = useAction();
  const problems = { ...problemsOf(action.error), ...local };
  const submit = (event: Event) => {
    event.preventDefault();
    const p = whole(partitions, 1, 64);
    const r = whole(retention, 1, 8760);
    const s = whole(sizeMib, 1, MAX_MIB);
    const found: Record<string, string> = {};
    if (p === undefined) found['partitions'] = 'A whole number from 1 to 64.';
    if (r === undefined) found['retentionHours'] = 'A whole number of hours from 1 to 8760 (a year).';
    if (s === undefined) found['retentionMaxBytes'] = `A whole number of MiB from 1 to ${count(MAX_MIB)}.`;
    setLocal(found);
    if (p === undefined || r === undefined || s === undefined) return;
    void action.run('create', async () => {
      props.onCreated(await api(() => client.POST('/api/v1/hubs', { body: { name: name.trim(), partitions: p, retentionHours: r, retentionMaxBytes: s * MIB, schema, onInvalid, allowNonJson } })));
    });
  };
  return (
    <form class="card admin-form" onSubmit={submit} aria-labelledby="new-hub-title" noValidate>
      <h2 id="new-hub-title">New hub</h2>
      <div class="admin-form-grid">
        <Field label="Name" value={name} onInput={setName} required autoFocus autoComplete="off" hint="a–z, 0–9 and “-”, starting with a letter; it appears in device paths and tokens." problem={problems['name']} />
        <NumberField label="Partitions" value={partitions} onInput={setPartitions} min={1} max={64} hint="Fixed for the hub’s life." problem={problems['partitions']} />
        <NumberField label="Keep events for (hours)" value={retention} onInput={setRetention} min={1} max={8760} hint="168 hours is a week." problem={problems['retentionHours']} />
        <NumberField label="Size limit per partition (MiB)" value={sizeMib} onInput={setSizeMib} min={1} max={MAX_MIB} problem={problems['retentionMaxBytes']} />
        <SelectField label="Schema" value={schema} onChange={(v) => { if (isSchema(v)) setSchema(v); }} options={(Object.keys(SCHEMAS) as Schema[]).map((s) => ({ value: s, label: SCHEMAS[s] }))} />
        <SelectField label="An event failing the schema" value={onInvalid} onChange={(v) => { if (isOnInvalid(v)) setOnInvalid(v); }} options={(Object.keys(ON_INVALID) as OnInvalid[]).map((o) => ({ value: o, label: ON_INVALID[o] }))} />
      </div>
      <label class="check">
        <input type="checkbox" checked={allowNonJson} onChange={(event) => setAllowNonJson(event.currentTarget.checked)} /> Accept bodies that are not JSON (binary telemetry)
      </label>
      <p class="hint">Creating a hub asks for your second factor again and is recorded in the audit trail.</p>
      <ErrorNote error={action.error} />
      <div class="actions">
        <Button type="submit" busy={action.busy === 'create'}>Create hub</Button>
        <Button kind="secondary" onClick={props.onCancel}>Cancel</Button>
      </div>
    </form>
  );
}

function ChangeHub(props: { readonly hub: Hub; readonly onCancel: () => void; readonly onChanged: (hub: Hub) => void }) {
  const { hub } = props;
  const [retention, setRetention] = useState(String(hub.retentionHours));
  const [sizeMib, setSizeMib] = useState(String(Math.round(hub.retentionMaxBytes / MIB)));
  const [schema, setSchema] = useState<Schema>(hub.schema);
  const [onInvalid, setOnInvalid] = useState<OnInvalid>(hub.onInvalid);
  const [allowNonJson, setAllowNonJson] = useState(hub.allowNonJson);
  const [local, setLocal] = useState<Record<string, string>>({});
  const [confirming, setConfirming] = useState<{ readonly retentionHours: number; readonly retentionMaxBytes: number } | undefined>(undefined);
  const problems = local;
  const submit = (event: Event) => {
    event.preventDefault();
    const r = whole(retention, 1, 8760);
    const s = whole(sizeMib, 1, MAX_MIB);
    const found: Record<string, string> = {};
    if (r === undefined) found['retentionHours'] = 'A whole number of hours from 1 to 8760 (a year).';
    if (s === undefined) found['retentionMaxBytes'] = `A whole number of MiB from 1 to ${count(MAX_MIB)}.`;
    setLocal(found);
    if (r === undefined || s === undefined) return;
    setConfirming({ retentionHours: r, retentionMaxBytes: s * MIB });
  };
  const shrinking = confirming !== undefined && (confirming.retentionHours < hub.retentionHours || confirming.retentionMaxBytes < hub.retentionMaxBytes);
  return (
    <form class="card admin-form" onSubmit={submit} aria-labelledby="change-hub-title" noValidate>
      <h2 id="change-hub-title">
        Change <code>{hub.name}</code>
      </h2>
      <div class="admin-form-grid">
        <NumberField label="Keep events for (hours)" value={retention} onInput={setRetention} min={1} max={8760} hint={`Now ${hours(hub.retentionHours)}.`} problem={problems['retentionHours']} />
        <NumberField label="Size limit per partition (MiB)" value={sizeMib} onInput={setSizeMib} min={1} max={MAX_MIB} hint={`Now ${size(hub.retentionMaxBytes)}.`} problem={problems['retentionMaxBytes']} />
        <SelectField label="Schema" value={schema} onChange={(v) => { if (isSchema(v)) setSchema(v); }} options={(Object.keys(SCHEMAS) as Schema[]).map((s) => ({ value: s, label: SCHEMAS[s] }))} />
        <SelectField label="An event failing the schema" value={onInvalid} onChange={(v) => { if (isOnInvalid(v)) setOnInvalid(v); }} options={(Object.keys(ON_INVALID) as OnInvalid[]).map((o) => ({ value: o, label: ON_INVALID[o] }))} />
      </div>
      <label class="check">
        <input type="checkbox" checked={allowNonJson} onChange={(event) => setAllowNonJson(event.currentTarget.checked)} /> Accept bodies that are not JSON
      </label>
      <p class="hint">The partition count stays {hub.partitions}. Changes ask for your second factor again and are audited.</p>
      <div class="actions">
        <Button type="submit">Save changes</Button>
        <Button kind="secondary" onClick={props.onCancel}>Cancel</Button>
      </div>
      {confirming === undefined ? null : (
        <ConfirmDialog title={`Change ${hub.name}?`} confirmLabel="Save changes" kind={shrinking ? 'danger' : 'primary'} onClose={() => setConfirming(undefined)} onConfirm={async () => {
          props.onChanged(await api(() => client.PATCH('/api/v1/hubs/{hub}', { params: { path: { hub: hub.name } }, body: { ...confirming, schema, onInvalid, allowNonJson } })));
        }}>
          <p>
            Events are kept for {hours(confirming.retentionHours)}, up to {size(confirming.retentionMaxBytes)} per partition.
            {shrinking ? ' Events beyond the new limits are deleted at the next retention run (within a minute) and cannot be read again.' : ''}
          </p>
          <p>New content rules apply to the next event a device sends.</p>
        </ConfirmDialog>
      )}
    </form>
  );
}
