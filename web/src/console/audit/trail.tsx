import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, client } from '../../api/client.ts';
import type { Ok } from '../../api/types.ts';
import { Button, ErrorNote, Field } from '../../ui/form.tsx';
import { usePages } from '../../ui/pages.tsx';
import { DateTimeField, isoToLocalInput, localInputToIso, plural, Time } from './format.tsx';
import { TableHead } from '../../ui/table.tsx';

// The audit trail for an auditor: newest first, filtered by actor, action,
// target and time. The filters live in the query string (a link shares the
// view); pages are walked with the server's cursors, kept on a stack so
// "Newer" goes back (usePages in web/src/ui/pages.tsx). Every stored value is
// shown as text, details as JSON text. `/console/audit/{seq}` shows one entry
// in full.

export type AuditItem = Ok<'/api/v1/audit/entries', 'get'>['items'][number];

export const TRAIL_PATH = '/console/audit';
const PAGE_SIZE = 50;
const FILTERS = ['actor', 'action', 'target', 'from', 'to'] as const;
type FilterName = (typeof FILTERS)[number];
type Filters = Partial<Record<FilterName, string>>;

function filtersFrom(query: Readonly<Record<string, string | undefined>>): Filters {
  const filters: Filters = {};
  for (const name of FILTERS) {
    const value = query[name]?.trim();
    if (value !== undefined && value !== '') filters[name] = value;
  }
  return filters;
}

/** The trail's address with these filters (in a fixed order, so equal filters give equal links). */
export function trailHref(filters: Filters): string {
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = filters[name];
    if (value !== undefined && value !== '') params.set(name, value);
  }
  const search = params.toString();
  return search === '' ? TRAIL_PATH : `${TRAIL_PATH}?${search}`;
}

export function entryHref(seq: number): string {
  return `${TRAIL_PATH}/${seq}`;
}

export default function AuditTrailScreen() {
  const { path } = useLocation();
  const rest = path.slice(TRAIL_PATH.length);
  if (rest.startsWith('/') && rest.length > 1) return <EntryPage seq={decodeURIComponent(rest.slice(1))} />;
  return <Trail />;
}

interface Draft {
  actor: string;
  action: string;
  target: string;
  from: string;
  to: string;
}

function draftOf(filters: Filters): Draft {
  return { actor: filters.actor ?? '', action: filters.action ?? '', target: filters.target ?? '', from: isoToLocalInput(filters.from), to: isoToLocalInput(filters.to) };
}

function Trail() {
  const { query, route } = useLocation();
  const filters = filtersFrom(query);
  const key = trailHref(filters);
  const [draft, setDraft] = useState<Draft>(() => draftOf(filters));
  const pages = usePages<AuditItem>(key, (cursor) => api(() => client.GET('/api/v1/audit/entries', { params: { query: { ...filters, limit: PAGE_SIZE, ...(cursor === undefined ? {} : { cursor }) } } })));

  // A link followed or Back pressed: the form shows the filters in force.
  useEffect(() => setDraft(draftOf(filtersFrom(query))), [key]);

  const apply = (event: Event) => {
    event.preventDefault();
    route(trailHref({ actor: draft.actor.trim(), action: draft.action.trim(), target: draft.target.trim(), from: localInputToIso(draft.from) ?? '', to: localInputToIso(draft.to) ?? '' }));
  };
  const set = (name: keyof Draft) => (value: string) => setDraft((d) => ({ ...d, [name]: value }));
  const filtered = Object.keys(filters).length > 0;
  const { items, loading, error, pageNumber } = pages;

  return (
    <section aria-labelledby="trail-title">
      <h1 id="trail-title">Audit trail</h1>
      <form class="toolbar audit-filters" onSubmit={apply} aria-label="Filter the trail">
        <Field label="Actor id" name="actor" value={draft.actor} onInput={set('actor')} />
        <Field label="Action" name="action" value={draft.action} onInput={set('action')} />
        <Field label="Target id" name="target" value={draft.target} onInput={set('target')} />
        <DateTimeField label="From" name="from" value={draft.from} onInput={set('from')} />
        <DateTimeField label="To" name="to" value={draft.to} onInput={set('to')} />
        <div class="audit-filter-actions">
          <Button type="submit">Apply filters</Button>
          {filtered ? <a class="button secondary" href={TRAIL_PATH}>Clear filters</a> : null}
        </div>
      </form>
      <p class="hint audit-filter-hint">Ids and actions match exactly (an account id such as acct_…, an action such as auth.login). Times are in your time zone.</p>
      <ErrorNote error={error} />
      <p role="status" class="audit-summary">
        {loading ? 'Loading entries…' : error !== undefined ? '' : items.length === 0 ? (filtered ? 'No entries match these filters.' : 'The trail holds no entries yet.') : `${plural(items.length, 'entry', 'entries')} on page ${pageNumber}, newest first${filtered ? ', filtered' : ''}.`}
      </p>
      {items.length === 0 ? null : (
        <table class="data audit-table">
          <caption class="audit-sr-only">Audit entries, newest first</caption>
          <TableHead columns={['Seq', 'Time', 'Actor', 'Action', 'Outcome', 'Target', 'Details']} />
          <tbody>
            {items.map((item) => (
              <EntryRow key={item.seq} item={item} />
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager" aria-label="Pages of the trail">
        <Button kind="secondary" disabled={!pages.hasPrevious || loading} onClick={pages.previous}>Newer entries</Button>
        <Button kind="secondary" disabled={!pages.hasNext || loading} onClick={pages.next}>Older entries</Button>
      </nav>
    </section>
  );
}

export function OutcomeBadge(props: { readonly outcome: AuditItem['outcome'] }) {
  const tone = props.outcome === 'success' ? 'ok' : props.outcome === 'denied' ? 'bad' : 'warn';
  return <span class={`badge ${tone}`}>{props.outcome}</span>;
}

function actorText(actor: AuditItem['actor']): string {
  return actor.id === null ? actor.type : `${actor.type} ${actor.id}`;
}

function targetText(target: AuditItem['target']): string {
  if (target === null) return '—';
  return [target.type, target.id].filter((part) => part !== null).join(' ');
}

function detailsText(details: AuditItem['details']): string {
  return JSON.stringify(details, null, 2);
}

function EntryRow(props: { readonly item: AuditItem }) {
  const { item } = props;
  const details = detailsText(item.details);
  const empty = Object.keys(item.details).length === 0;
  return (
    <tr>
      <td>
        <a href={entryHref(item.seq)} aria-label={`Entry ${item.seq}`}>{item.seq}</a>
      </td>
      <td class="audit-time"><Time iso={item.at} style="seconds" /></td>
      <td class="audit-id">{actorText(item.actor)}</td>
      <td><code>{item.action}</code></td>
      <td><OutcomeBadge outcome={item.outcome} /></td>
      <td class="audit-id">{targetText(item.target)}</td>
      <td class="audit-details">
        {empty ? (
          <span class="hint">none</span>
        ) : (
          <details>
            <summary>{`${Object.keys(item.details).length} field${Object.keys(item.details).length === 1 ? '' : 's'}`}<span class="audit-sr-only">{` of entry ${item.seq}`}</span></summary>
            <pre class="audit-json">{details}</pre>
          </details>
        )}
      </td>
    </tr>
  );
}

function EntryPage(props: { readonly seq: string }) {
  const seq = /^[1-9]\d{0,15}$/.test(props.seq) ? Number(props.seq) : undefined;
  const [entry, setEntry] = useState<AuditItem | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);

  useEffect(() => {
    if (seq === undefined) return undefined;
    let live = true;
    setLoading(true);
    setError(undefined);
    setEntry(undefined);
    api(() => client.GET('/api/v1/audit/entries/{seq}', { params: { path: { seq } } }))
      .then((loaded) => {
        if (live) setEntry(loaded);
      })
      .catch((failure: unknown) => {
        if (live) setError(failure);
      })
      .finally(() => {
        if (live) setLoading(false);
      });
    return () => {
      live = false;
    };
  }, [seq]);

  return (
    <section aria-labelledby="entry-title">
      <p class="audit-crumbs"><a href={TRAIL_PATH}>Audit trail</a></p>
      <h1 id="entry-title">{seq === undefined ? 'No such entry' : `Audit entry ${seq}`}</h1>
      {seq === undefined ? null : (
        <nav class="audit-neighbours" aria-label="Neighbouring entries">
          {seq > 1 ? <a href={entryHref(seq - 1)}>Entry {seq - 1}</a> : null}
          <a href={entryHref(seq + 1)}>Entry {seq + 1}</a>
        </nav>
      )}
      {seq === undefined ? <p>Entries are numbered from 1; “{props.seq}” is not an entry number.</p> : null}
      {seq !== undefined && loading ? <p role="status">Loading the entry…</p> : null}
      <ErrorNote error={error} />
      {entry === undefined ? null : <EntryFacts entry={entry} />}
    </section>
  );
}

function EntryFacts(props: { readonly entry: AuditItem }) {
  const { entry } = props;
  return (
    <>
      <dl class="facts">
        <dt>Time</dt>
        <dd><Time iso={entry.at} style="seconds" /> <span class="hint">({entry.at})</span></dd>
        <dt>Action</dt>
        <dd><code>{entry.action}</code> <a href={trailHref({ action: entry.action })}>all entries with this action</a></dd>
        <dt>Outcome</dt>
        <dd><OutcomeBadge outcome={entry.outcome} /></dd>
        <dt>Actor</dt>
        <dd>
          {actorText(entry.actor)}
          {entry.actor.authMethod === null ? null : <span class="hint"> (signed in by {entry.actor.authMethod})</span>}
          {entry.actor.id === null ? null : <> <a href={trailHref({ actor: entry.actor.id })}>all entries by this actor</a></>}
        </dd>
        <dt>Target</dt>
        <dd>
          {targetText(entry.target)}
          {entry.target?.id == null ? null : <> <a href={trailHref({ target: entry.target.id })}>all entries on this target</a></>}
        </dd>
        <dt>Source address</dt>
        <dd>{entry.context.sourceIp ?? '—'}</dd>
        <dt>User agent</dt>
        <dd>{entry.context.userAgent ?? '—'}</dd>
        <dt>Request id</dt>
        <dd>{entry.context.requestId ?? '—'}</dd>
        <dt>Entry id</dt>
        <dd><code>{entry.id}</code></dd>
        <dt>Chain hash</dt>
        <dd><code class="audit-hash">{entry.hash}</code></dd>
      </dl>
      <h2>Details</h2>
      {Object.keys(entry.details).length === 0 ? <p>This entry records no details.</p> : <pre class="audit-json">{detailsText(entry.details)}</pre>}
    </>
  );
}
