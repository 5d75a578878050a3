import { useState } from 'preact/hooks';
import { api, client } from '../../api/client.ts';
import { Button } from '../../ui/form.tsx';
import { BackLink, ConfirmDialog, LoadFailed, NoticeLine, plural, ShownOnce, Time, useLoaded, usePermission } from './common.tsx';
import { DEVICES, DeviceStatus, KINDS, type Shown } from './device-common.tsx';
import { DeviceCertificates } from './device-certificates.tsx';
import { DeviceKeys } from './device-keys.tsx';
import { DeviceToken } from './device-token.tsx';

// One device's page (/console/devices/{id}): what it is, enabling or
// disabling it, and its panels: keys (device-keys.tsx), a SAS token
// (device-token.tsx) and client certificates (device-certificates.tsx). What
// they return to show once lives only in this page's memory.

type Pending = 'disable' | 'enable';

export function DevicePage(props: { readonly id: string }) {
  const canManage = usePermission('device.manage');
  const canReveal = usePermission('device.key.reveal');
  const [device, setDevice, loadError] = useLoaded(props.id, (id) => api(() => client.GET('/api/v1/devices/{id}', { params: { path: { id } } })));
  const [pending, setPending] = useState<Pending | undefined>(undefined);
  const [shown, setShown] = useState<Shown | undefined>(undefined);
  const [notice, setNotice] = useState('');
  const path = { params: { path: { id: props.id } } };

  if (loadError !== undefined) return <LoadFailed back={DEVICES} backLabel="All devices" title="Device" error={loadError} />;
  if (device === undefined) return <p class="loading" role="status">Loading the device…</p>;

  const close = () => setPending(undefined);
  const dialog = (() => {
    if (pending === undefined) return null;
    switch (pending) {
      case 'disable':
        return (
          <ConfirmDialog title={`Disable ${device.name}?`} confirmLabel="Disable device" onClose={close} onConfirm={async () => {
            setDevice(await api(() => client.POST('/api/v1/devices/{id}/disable', path)));
            setNotice('The device is disabled; its connections end within a second.');
          }}>
            <p>Its connections end within a second and it cannot send telemetry until it is enabled again. Its keys stay as they are.</p>
          </ConfirmDialog>
        );
      case 'enable':
        return (
          <ConfirmDialog title={`Enable ${device.name}?`} confirmLabel="Enable device" kind="primary" onClose={close} onConfirm={async () => {
            setDevice(await api(() => client.POST('/api/v1/devices/{id}/enable', path)));
            setNotice('The device is enabled.');
          }}>
            <p>It may connect and send telemetry again with its current keys.</p>
          </ConfirmDialog>
        );
    }
  })();

  return (
    <section aria-labelledby="device-title">
      <BackLink href={DEVICES}>All devices</BackLink>
      <h1 id="device-title">{device.name}</h1>
      <NoticeLine notice={notice} />
      {shown === undefined ? null : (
        <ShownOnce title={shown.title} secrets={shown.secrets} onDone={() => setShown(undefined)}>
          {shown.note === '' ? null : <p>{shown.note}</p>}
        </ShownOnce>
      )}
      <dl class="facts">
        <dt>Id</dt>
        <dd>
          <code>{device.id}</code>
        </dd>
        <dt>Kind</dt>
        <dd>{KINDS[device.kind]}</dd>
        <dt>Depot</dt>
        <dd>{device.depot}</dd>
        <dt>Status</dt>
        <dd>
          <DeviceStatus status={device.status} />
        </dd>
        <dt>Last seen</dt>
        <dd>
          <Time iso={device.lastSeenAt} empty="Never" />
        </dd>
        <dt>Client certificates</dt>
        <dd>{device.thumbprints.length === 0 ? 'None' : plural(device.thumbprints.length, 'thumbprint', 'thumbprints')}</dd>
        <dt>Added</dt>
        <dd>
          <Time iso={device.createdAt} />
        </dd>
        <dt>Last changed</dt>
        <dd>
          <Time iso={device.updatedAt} /> (revision {device.revision})
        </dd>
      </dl>
      {dialog}

      {canManage ? (
        <div class="admin-panel">
          <h2>Status</h2>
          {device.status === 'enabled' ? (
            <>
              <Button kind="danger" onClick={() => setPending('disable')}>Disable device</Button>
              <p class="hint">Ends its connections and refuses it until enabled again.</p>
            </>
          ) : (
            <Button kind="secondary" onClick={() => setPending('enable')}>Enable device</Button>
          )}
        </div>
      ) : null}

      {canReveal ? <DeviceKeys device={device} onRotated={setDevice} onShown={setShown} /> : null}

      {canReveal ? <DeviceToken device={device} onIssued={(issued) => setShown(issued)} /> : null}
      {canManage ? <DeviceCertificates device={device} onSaved={(next) => { setDevice(next); setNotice('Thumbprints saved.'); }} /> : null}
    </section>
  );
}
