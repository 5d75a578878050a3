import { useEffect, useState } from 'preact/hooks';
import { api, client } from '../../api/client.ts';
import type { Ok } from '../../api/types.ts';
import { Button, ErrorNote } from '../../ui/form.tsx';
import { Badge, ConfirmDialog, plural, Time } from './common.tsx';
import { TableHead } from '../../ui/table.tsx';

// One account's live sessions, on its page: where and how each signed in,
// and ending one or all of them (each asks first). The list loads again
// whenever the page says something changed (`refresh`), since a new role, a
// disabled account or a reset ends sessions too.

type Session = Ok<'/api/v1/users/{id}/sessions', 'get'>['items'][number];
type Pending = 'all' | { readonly session: Session };

export function UserSessions(props: { readonly id: string; readonly username: string; readonly self: boolean; readonly refresh: number; readonly onEnded: (message: string) => void }) {
  const [items, setItems] = useState<readonly Session[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [pending, setPending] = useState<Pending | undefined>(undefined);
  useEffect(() => {
    api(() => client.GET('/api/v1/users/{id}/sessions', { params: { path: { id: props.id } } }))
      .then((loaded) => {
        setItems(loaded.items);
        setError(undefined);
      })
      .catch(setError);
  }, [props.id, props.refresh]);

  const close = () => setPending(undefined);
  const confirm =
    pending === undefined ? null : pending === 'all' ? (
      <ConfirmDialog title={`Sign ${props.username} out everywhere?`} confirmLabel="End all sessions" onClose={close} onConfirm={async () => {
        const { ended } = await api(() => client.DELETE('/api/v1/users/{id}/sessions', { params: { path: { id: props.id } } }));
        props.onEnded(`${plural(ended, 'session', 'sessions')} ended.`);
      }}>
        <p>Every browser signed in as {props.username} is signed out at once{props.self ? ', this one included' : ''}.</p>
      </ConfirmDialog>
    ) : (
      <ConfirmDialog title="End this session?" confirmLabel="End session" onClose={close} onConfirm={async () => {
        await api(() => client.DELETE('/api/v1/users/{id}/sessions/{sessionId}', { params: { path: { id: props.id, sessionId: pending.session.id } } }));
        props.onEnded('The session was ended.');
      }}>
        <p>The browser at {pending.session.sourceIp} ({pending.session.userAgent || 'unknown browser'}) is signed out at once.</p>
      </ConfirmDialog>
    );

  return (
    <div class="admin-panel">
      <h2>Sessions</h2>
      <ErrorNote error={error} />
      {items === undefined ? (
        error === undefined ? <p class="muted" role="status">Loading sessions…</p> : null
      ) : items.length === 0 ? (
        <p>No one is signed in as this account.</p>
      ) : (
        <>
          <table class="data">
            <caption class="admin-sr-only">Live sessions</caption>
            <TableHead columns={['Signed in', 'Last active', 'From', 'Browser', 'Method']} actions />
            <tbody>
              {items.map((s) => (
                <tr key={s.id}>
                  <td>
                    <Time iso={s.createdAt} />
                  </td>
                  <td>
                    <Time iso={s.lastSeenAt} />
                  </td>
                  <td>{s.sourceIp}</td>
                  <td class="admin-ua">{s.userAgent || '—'}</td>
                  <td>
                    {s.authMethod}
                    {s.mfaMethod === null ? '' : ` + ${s.mfaMethod}`}
                    {s.current ? <> <Badge>this browser</Badge></> : null}
                  </td>
                  <td>
                    <Button kind="secondary" label={`End the session from ${s.sourceIp} started ${new Date(s.createdAt).toLocaleString('en-GB')}`} onClick={() => setPending({ session: s })}>End</Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Button kind="danger" onClick={() => setPending('all')}>End all sessions</Button>
        </>
      )}
      {confirm}
    </div>
  );
}
