import { useState } from 'preact/hooks';
import { api, client } from '../../api/client.ts';
import { Button } from '../../ui/form.tsx';
import { ConfirmDialog } from './common.tsx';
import { bothKeys, type Device, type Shown } from './device-common.tsx';

// A device's two keys, on its page: replacing either one (the old one stops
// working at once) or showing both. Each asks first, asks for the second
// factor again and is audited; what the server returns is handed to the page
// to show once.

type Which = 'primary' | 'secondary';
type Pending = 'reveal' | { readonly rotate: Which };

export function DeviceKeys(props: { readonly device: Device; readonly onRotated: (device: Device) => void; readonly onShown: (shown: Shown) => void }) {
  const { device } = props;
  const [pending, setPending] = useState<Pending | undefined>(undefined);
  const close = () => setPending(undefined);
  const dialog = (() => {
    if (pending === undefined) return null;
    if (pending === 'reveal') {
      return (
        <ConfirmDialog title={`Show the keys of ${device.name}?`} confirmLabel="Show keys" kind="primary" onClose={close} onConfirm={async () => {
          const keys = await api(() => client.GET('/api/v1/devices/{id}/keys', { params: { path: { id: device.id } } }));
          props.onShown({ title: `Keys of ${device.name}`, secrets: bothKeys(keys), note: '' });
        }}>
          <p>Showing a device’s keys asks for your second factor again and is recorded in the audit trail with your name.</p>
        </ConfirmDialog>
      );
    }
    const which = pending.rotate;
    return (
      <ConfirmDialog title={`Replace the ${which} key of ${device.name}?`} confirmLabel={`Replace ${which} key`} onClose={close} onConfirm={async () => {
        const result = await api(() => client.POST('/api/v1/devices/{id}/keys/{which}/rotate', { params: { path: { id: device.id, which } } }));
        props.onRotated(result.device);
        props.onShown({ title: `New ${which} key of ${device.name}`, secrets: [{ label: `${which === 'primary' ? 'Primary' : 'Secondary'} key`, value: result.key }], note: 'Put it in the device now: tokens signed with the old key are refused from this moment.' });
      }}>
        <p>The old {which} key stops working at once: the device’s connections and tokens signed with it are refused. Switch the device to its other key first, then replace this one.</p>
        <p>This asks for your second factor again and is recorded in the audit trail.</p>
      </ConfirmDialog>
    );
  })();

  return (
    <div class="admin-panel">
      <h2>Keys</h2>
      <p class="hint">Each of these asks for your second factor again and is recorded in the audit trail.</p>
      <div class="actions">
        <Button kind="danger" onClick={() => setPending({ rotate: 'primary' })}>Replace primary key</Button>
        <Button kind="danger" onClick={() => setPending({ rotate: 'secondary' })}>Replace secondary key</Button>
        <Button kind="secondary" onClick={() => setPending('reveal')}>Show keys</Button>
      </div>
      {dialog}
    </div>
  );
}
