import { useEffect, useState } from 'preact/hooks';
import { api, client } from '../../api/client.ts';
import type { Ok } from '../../api/types.ts';
import { Button, ErrorNote } from '../../ui/form.tsx';
import { SelectField, useAction, type Option } from './common.tsx';
import type { Device, Shown } from './device-common.tsx';

// A SAS token for a device, on its page: signed by the server with the
// device's primary key for HTTPS ingest (to a hub) or MQTT, for a chosen
// lifetime. It asks for the second factor again and is audited; the token is
// handed to the page to show once.

type Hub = Ok<'/api/v1/hubs', 'get'>['hubs'][number];

const LIFETIMES: Option[] = [
  { value: '3600', label: '1 hour' },
  { value: '86400', label: '1 day' },
  { value: '604800', label: '7 days' },
  { value: '2592000', label: '30 days' },
];

export function DeviceToken(props: { readonly device: Device; readonly onIssued: (shown: Shown) => void }) {
  const [scope, setScope] = useState<'http' | 'mqtt'>('http');
  const [hub, setHub] = useState('');
  const [ttl, setTtl] = useState('86400');
  const [hubs, setHubs] = useState<readonly Hub[]>([]);
  const action = useAction();
  useEffect(() => {
    api(() => client.GET('/api/v1/hubs'))
      .then((list) => setHubs(list.hubs))
      .catch(() => setHubs([]));
  }, []);
  const defaultHub = `${props.device.kind}-telemetry`;
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run('token', async () => {
      const body = { ttlSeconds: Number(ttl), scope, ...(scope === 'http' && hub !== '' ? { hub } : {}) };
      const issued = await api(() => client.POST('/api/v1/devices/{id}/token', { params: { path: { id: props.device.id } }, body }));
      props.onIssued({
        title: `SAS token for ${props.device.name}`,
        secrets: [{ label: 'Token', value: issued.token }],
        note: `For ${issued.resourceUri}; valid until ${new Date(issued.expiresAt).toLocaleString('en-GB')}. Anyone holding it can send as this device until then.`,
      });
    });
  };
  return (
    <form class="admin-panel" onSubmit={submit} aria-labelledby="token-title">
      <h2 id="token-title">SAS token</h2>
      <p class="hint">A token signed with the primary key, for a device that cannot sign its own (tests, a gateway). It asks for your second factor again and is audited.</p>
      <div class="toolbar">
        <SelectField label="For" value={scope} onChange={(value) => setScope(value === 'mqtt' ? 'mqtt' : 'http')} options={[{ value: 'http', label: 'HTTPS ingest' }, { value: 'mqtt', label: 'MQTT' }]} />
        {scope === 'http' ? (
          <SelectField label="Hub" value={hub} onChange={setHub} options={[{ value: '', label: `Default (${defaultHub})` }, ...hubs.filter((h) => h.name !== defaultHub).map((h) => ({ value: h.name, label: h.name }))]} />
        ) : null}
        <SelectField label="Valid for" value={ttl} onChange={setTtl} options={LIFETIMES} />
        <Button type="submit" busy={action.busy === 'token'}>Issue token</Button>
      </div>
      <ErrorNote error={action.error} />
    </form>
  );
}
