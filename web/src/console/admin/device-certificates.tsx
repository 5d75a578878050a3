import { useEffect, useId, useState } from 'preact/hooks';
import { api, client } from '../../api/client.ts';
import { Button, ErrorNote } from '../../ui/form.tsx';
import { useAction } from './common.tsx';
import type { Device } from './device-common.tsx';

// A device's client certificates, on its page: the SHA-256 thumbprints it may
// connect with, one per line (colons and case do not matter, repeats are
// dropped). The text starts again from the device whenever it changes.

export function DeviceCertificates(props: { readonly device: Device; readonly onSaved: (device: Device) => void }) {
  const id = useId();
  const [text, setText] = useState(props.device.thumbprints.join('\n'));
  const action = useAction();
  useEffect(() => setText(props.device.thumbprints.join('\n')), [props.device.revision]);
  const submit = (event: Event) => {
    event.preventDefault();
    const thumbprints = [...new Set(text.split(/\s+/).map((t) => t.trim().toLowerCase().replaceAll(':', '')).filter((t) => t !== ''))];
    void action.run('thumbprints', async () => {
      props.onSaved(await api(() => client.PUT('/api/v1/devices/{id}/thumbprints', { params: { path: { id: props.device.id } }, body: { thumbprints } })));
    });
  };
  return (
    <form class="admin-panel" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Client certificates</h2>
      <div class="field">
        <label for={id}>SHA-256 thumbprints, one per line</label>
        <textarea id={id} rows={3} value={text} aria-describedby={`${id}-hint`} onInput={(event) => setText(event.currentTarget.value)} />
        <p class="hint" id={`${id}-hint`}>64 hexadecimal characters each (colons are removed). Up to 10. The device may then connect with any of these certificates.</p>
      </div>
      <ErrorNote error={action.error} />
      <Button type="submit" kind="secondary" busy={action.busy === 'thumbprints'}>Save thumbprints</Button>
    </form>
  );
}
