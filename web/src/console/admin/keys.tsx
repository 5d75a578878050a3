import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, client } from '../../api/client.ts';
import type { Ok } from '../../api/types.ts';
import { Button, ErrorNote, Field } from '../../ui/form.tsx';
import { Badge, ConfirmDialog, count, plural, problemsOf, Time } from './common.tsx';
import { TableHead } from '../../ui/table.tsx';

// The keyring: data keys (they encrypt stored personal data and secrets) and
// signing keys (receipts, audit checkpoints, access tokens), by id, purpose
// and state, never their material; and rotating all of them. A rotation runs
// on the server in the background: it waits for running servers to drop the
// old keys, re-encrypts every stored value, then retires old data keys. This
// page follows it (phase and progress) until the server reports its summary.

type KeyList = Ok<'/api/v1/keys', 'get'>;
type Key = KeyList['items'][number];
type Rotation = NonNullable<KeyList['rotation']>;

/** How often a running rotation is looked at again. */
const POLL_MS = 1000;

const STATES: Record<Key['state'], { label: string; tone: 'ok' | 'warn' | '' }> = {
  active: { label: 'Active', tone: 'ok' },
  retiring: { label: 'Decrypts only (retiring)', tone: 'warn' },
  retired: { label: 'Retired', tone: '' },
  verify_only: { label: 'Verifies only', tone: '' },
};

const PURPOSES: Record<string, string> = {
  personal: 'Personal data',
  secret: 'Secrets',
  receipt: 'Delivery receipts',
  audit: 'Audit checkpoints',
  token: 'Access tokens',
};

function progressText(rotation: Rotation): string {
  switch (rotation.phase) {
    case 'start':
      return 'Creating new keys…';
    case 'settle':
      return `Waiting for running servers to stop using the old keys: ${Math.floor(rotation.done / 1000)} of ${Math.ceil(rotation.total / 1000)} s.`;
    case 'reencrypt':
      return `Re-encrypting stored values: ${count(rotation.done)} of ${count(rotation.total)}.`;
    case 'retire':
      return `Retiring old data keys nothing uses any more: ${count(rotation.done)} of ${count(rotation.total)}.`;
    case null:
      return 'Finishing…';
  }
}

export default function KeysScreen() {
  const [list, setList] = useState<KeyList | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [following, setFollowing] = useState<'live' | 'paused' | 'idle'>('idle');
  const [reason, setReason] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [formError, setFormError] = useState<unknown>(undefined);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const load = async () => {
    try {
      const loaded = await api(() => client.GET('/api/v1/keys'));
      setList(loaded);
      setError(undefined);
      setFollowing(loaded.rotation?.status === 'running' ? 'live' : 'idle');
    } catch (failure) {
      setError(failure);
    }
  };

  useEffect(() => {
    void load();
    return () => clearTimeout(timer.current);
  }, []);

  // While a rotation runs, look again every second. Quietly: a second factor
  // gone stale pauses the following rather than opening the prompt unasked.
  const running = list?.rotation?.status === 'running';
  useEffect(() => {
    if (!running || following !== 'live') return;
    timer.current = setTimeout(() => {
      void client.GET('/api/v1/keys').then(({ data, error: refusal, response }) => {
        if (response.ok && data !== undefined) {
          setList(data);
          setError(undefined);
          if (data.rotation?.status !== 'running') setFollowing('idle');
          return;
        }
        const failure = new ApiError(response.status, refusal, undefined);
        setFollowing('paused');
        if (failure.code !== 'auth.step_up_required') setError(failure);
      }, (failure: unknown) => {
        setFollowing('paused');
        setError(failure);
      });
    }, POLL_MS);
    return () => clearTimeout(timer.current);
  }, [running, following, list]);

  const rotate = async () => {
    setFormError(undefined);
    try {
      const started = await api(() => client.POST('/api/v1/keys/rotate', { body: { reason: reason.trim() } }));
      setList((current) => (current === undefined ? current : { ...current, rotation: started.rotation }));
      setFollowing('live');
      setReason('');
    } catch (failure) {
      // Refusals of the form itself are shown beside it, not in the dialog.
      if (failure instanceof ApiError && failure.code === 'request.invalid') {
        setFormError(failure);
        return;
      }
      throw failure;
    }
  };

  const items = list?.items ?? [];
  const rotation = list?.rotation ?? null;
  const problems = problemsOf(formError);
  const data = items.filter((k) => k.type === 'data');
  const signing = items.filter((k) => k.type === 'signing');

  return (
    <section aria-labelledby="keys-title">
      <h1 id="keys-title">Keys</h1>
      <p class="admin-lead">
        Data keys encrypt stored personal data and secrets; signing keys sign delivery receipts, audit checkpoints and access tokens. Their material never leaves the server: this page shows only ids, purposes and states.
      </p>
      <ErrorNote error={error} />
      {list === undefined && error === undefined ? <p class="muted" role="status">Loading keys…</p> : null}

      <div class="admin-panel" aria-labelledby="rotation-title">
        <h2 id="rotation-title">Rotation</h2>
        <div role="status" class="admin-rotation-status">
          {rotation === null ? <p>No rotation has run on this server since it started. The audit trail records every rotation (<code>keys.rotate</code>).</p> : <RotationState rotation={rotation} />}
        </div>
        {following === 'paused' && running ? (
          <p>
            Following the rotation paused. <Button kind="secondary" onClick={() => void load()}>Check again</Button>
          </p>
        ) : null}
        {list === undefined ? null : (
          <form
            class="admin-rotate-form"
            onSubmit={(event) => {
              event.preventDefault();
              setFormError(undefined);
              setConfirming(true);
            }}
          >
            <Field label="Reason" value={reason} onInput={setReason} required autoComplete="off" hint="Recorded in the audit trail, for example “yearly rotation” or “laptop with a database copy lost”." problem={problems['reason']} />
            <ErrorNote error={formError} />
            <Button type="submit" kind="danger" disabled={running}>Rotate all keys</Button>
            {running ? <p class="hint">A rotation is running; another can start once it has finished.</p> : null}
          </form>
        )}
      </div>
      {confirming ? (
        <ConfirmDialog title="Rotate every data and signing key?" confirmLabel="Rotate now" onClose={() => setConfirming(false)} onConfirm={rotate}>
          <ol class="admin-steps">
            <li>New data and signing keys become active; old data keys only decrypt, old signing keys only verify (receipts and checkpoints signed earlier keep verifying).</li>
            <li>The server waits a few seconds so every running server stops using the old keys.</li>
            <li>Every stored value is re-encrypted under the new keys; with much data this takes a while. Rampart keeps working meanwhile.</li>
            <li>Old data keys no stored value uses any more are destroyed.</li>
          </ol>
          <p>This asks for your second factor again and is recorded in the audit trail with your reason.</p>
        </ConfirmDialog>
      ) : null}

      {list === undefined ? null : (
        <>
          <KeyTable id="data-keys" title="Data keys" items={data} ended="Retired" />
          <KeyTable id="signing-keys" title="Signing keys (Ed25519)" items={signing} ended="Stopped signing" />
        </>
      )}
    </section>
  );
}

function RotationState(props: { readonly rotation: Rotation }) {
  const { rotation } = props;
  const by = rotation.startedByName === null ? '' : ` by ${rotation.startedByName}`;
  if (rotation.status === 'running') {
    const determinate = rotation.total > 0 && rotation.phase !== 'start';
    return (
      <div class="admin-rotation running" aria-busy="true">
        <p class="admin-rotation-line">
          <Badge tone="warn">Running</Badge> Started <Time iso={rotation.startedAt} />{by}: “{rotation.reason}”
        </p>
        <p>{progressText(rotation)}</p>
        {determinate ? <progress max={rotation.total} value={Math.min(rotation.done, rotation.total)} aria-label="Rotation progress" /> : <progress aria-label="Rotation progress" />}
      </div>
    );
  }
  if (rotation.status === 'failed') {
    return (
      <div class="admin-rotation failed">
        <p class="admin-rotation-line">
          <Badge tone="bad">Stopped</Badge> The rotation started <Time iso={rotation.startedAt} />{by} did not finish.
        </p>
        <p>{rotation.error}</p>
      </div>
    );
  }
  const report = rotation.report;
  return (
    <div class="admin-rotation done">
      <p class="admin-rotation-line">
        <Badge tone="ok">Finished</Badge> Keys rotated <Time iso={rotation.finishedAt} />{by}: “{rotation.reason}”
      </p>
      {report === null ? null : (
        <ul class="admin-report">
          <li>{plural(report.newDataKeys.length, 'new data key', 'new data keys')} and {plural(report.newSigningKeys.length, 'new signing key', 'new signing keys')}</li>
          <li>{plural(report.reencrypted, 'stored value', 'stored values')} re-encrypted</li>
          <li>{report.retired.length === 0 ? 'No old data key retired' : `Retired: ${report.retired.join(', ')}`}</li>
          {report.stillRetiring.length === 0 ? null : <li>Still in use, kept for decryption (rotate again later to retire): {report.stillRetiring.join(', ')}</li>}
        </ul>
      )}
    </div>
  );
}

function KeyTable(props: { readonly id: string; readonly title: string; readonly items: readonly Key[]; readonly ended: string }) {
  return (
    <>
      <h2 id={props.id}>{props.title}</h2>
      {props.items.length === 0 ? (
        <p>None yet: the first is created when it is first needed.</p>
      ) : (
        <table class="data" aria-labelledby={props.id}>
          <TableHead columns={['Id', 'Purpose', 'State', 'Created', props.ended]} />
          <tbody>
            {props.items.map((key) => (
              <tr key={key.id}>
                <td>
                  <code>{key.id}</code>
                </td>
                <td>{PURPOSES[key.purpose] ?? key.purpose}</td>
                <td>
                  <Badge tone={STATES[key.state].tone}>{STATES[key.state].label}</Badge>
                </td>
                <td>
                  <Time iso={key.createdAt} />
                </td>
                <td>
                  <Time iso={key.endedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
