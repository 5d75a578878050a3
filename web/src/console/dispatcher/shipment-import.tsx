import { useId, useState } from 'preact/hooks';
import { api, ApiError, client } from '../../api/client.ts';
import type { Ok } from '../../api/types.ts';
import { Button, ErrorNote } from '../../ui/form.tsx';
import { BackLink, plural, SelectField, useAction } from '../admin/common.tsx';
import { Check, useDepots, usePermission } from '../planning/common.tsx';
import { NoShipmentCreation, shipmentHref, SHIPMENTS_PATH, trackingUrl } from './shipment-common.tsx';
import { TableHead } from '../../ui/table.tsx';

// Shipments from a CSV file: the file is read as text in the browser and sent
// as text/csv. The server checks every row before writing any; when one is
// wrong it refuses the whole file and lists each row's problems, which this
// page shows in a table and says plainly that nothing was imported. With
// "skip invalid rows" the valid rows are imported and the others listed. The
// new shipments' tracking links come only in this answer, so they are shown.

type Report = Ok<'/api/v1/shipments/import', 'post'>;
interface RowProblem {
  readonly row: number;
  readonly column: string;
  readonly message: string;
}
type Outcome = { readonly kind: 'imported'; readonly report: Report; readonly file: string } | { readonly kind: 'refused'; readonly rows: readonly RowProblem[]; readonly file: string };

const COLUMNS = 'reference, depot, recipient_name, recipient_phone, recipient_address, destination_lat, destination_lon, weight_kg, length_cm, width_cm, height_cm, mode, window_start, window_end, required_proof';

/** The per-row problems of a 422 refusal, as the import endpoint sends them. */
function rowsOf(body: unknown): RowProblem[] | undefined {
  if (typeof body !== 'object' || body === null || !('rows' in body) || !Array.isArray(body.rows)) return undefined;
  return (body.rows as unknown[]).filter((r): r is RowProblem => typeof r === 'object' && r !== null && 'row' in r && typeof r.row === 'number' && 'column' in r && typeof r.column === 'string' && 'message' in r && typeof r.message === 'string');
}

export function ImportPage() {
  const fileId = useId();
  const canManage = usePermission('shipment.manage');
  const { depots } = useDepots();
  const [file, setFile] = useState<{ name: string; text: string } | undefined>(undefined);
  const [depot, setDepot] = useState('');
  const [skipInvalid, setSkipInvalid] = useState(false);
  const action = useAction();
  const busy = action.busy === 'import';
  const [outcome, setOutcome] = useState<Outcome | undefined>(undefined);

  if (!canManage) return <NoShipmentCreation titleId="import-title" title="Import shipments" />;

  const choose = async (input: HTMLInputElement) => {
    setOutcome(undefined);
    action.clear();
    const chosen = input.files?.[0];
    if (chosen === undefined) {
      setFile(undefined);
      return;
    }
    try {
      setFile({ name: chosen.name, text: await chosen.text() });
    } catch (failure) {
      setFile(undefined);
      action.fail(failure);
    }
  };

  const send = (event: Event) => {
    event.preventDefault();
    if (file === undefined) return;
    void action.run('import', async () => {
      setOutcome(undefined);
      let refused: RowProblem[] | undefined;
      try {
        const report = await api(async () => {
          const answer = await client.POST('/api/v1/shipments/import', {
            params: { query: { skipInvalid, ...(depot === '' ? {} : { depot }) } },
            body: file.text,
            bodySerializer: (text) => text,
            headers: { 'content-type': 'text/csv' },
          });
          refused = answer.response.status === 422 ? rowsOf(answer.error) : undefined;
          return answer;
        });
        setOutcome({ kind: 'imported', report, file: file.name });
      } catch (failure) {
        // A file refused row by row is an answer to show, not an error.
        if (failure instanceof ApiError && failure.status === 422 && refused !== undefined) setOutcome({ kind: 'refused', rows: refused, file: file.name });
        else throw failure;
      }
    });
  };

  return (
    <section aria-labelledby="import-title">
      <BackLink href={SHIPMENTS_PATH}>Shipments</BackLink>
      <h1 id="import-title">Import shipments</h1>
      <p class="shipments-lead">
        A CSV file (UTF-8) with a header row naming its columns, in any order: <code>{COLUMNS}</code>. Every row is checked before anything is written; if any row is wrong,
        nothing is imported and each problem is listed here.
      </p>
      <form class="card shipments-import-form" onSubmit={send}>
        <div class="field">
          <label for={fileId}>CSV file</label>
          <input id={fileId} type="file" name="file" accept=".csv,text/csv" aria-describedby={`${fileId}-hint`} onChange={(event) => void choose(event.currentTarget)} />
          <p class="hint" id={`${fileId}-hint`}>{file === undefined ? 'Nothing is sent until you press Import.' : `${file.name}: ${plural(Math.max(0, file.text.trim().split(/\r?\n/).length - 1), 'line', 'lines')} after the header.`}</p>
        </div>
        <SelectField label="Depot for rows without one" name="depot" value={depot} options={[{ value: '', label: 'None: every row names its depot' }, ...(depots ?? []).map((d) => ({ value: d.id, label: `${d.name} (${d.id})` }))]} onChange={setDepot} />
        <Check label="Skip invalid rows: import the valid ones and list the others" checked={skipInvalid} onChange={setSkipInvalid} />
        <Button type="submit" busy={busy} disabled={file === undefined}>Import</Button>
      </form>
      <ErrorNote error={action.error} />
      <div role="status" aria-live="polite">
        {busy ? <p>Importing…</p> : null}
        {outcome?.kind === 'refused' ? (
          <p class="error-note">
            <strong>Nothing was imported.</strong> {outcome.file} has {plural(outcome.rows.length, 'problem', 'problems')} in {plural(new Set(outcome.rows.map((r) => r.row)).size, 'row', 'rows')}. Fix the file and import it again.
          </p>
        ) : null}
        {outcome?.kind === 'imported' ? (
          <p class="notice">
            Imported {plural(outcome.report.created.length, 'shipment', 'shipments')} from {outcome.file}.{outcome.report.skipped.length === 0 ? '' : ` ${plural(new Set(outcome.report.skipped.map((r) => r.row)).size, 'row was', 'rows were')} skipped.`}
          </p>
        ) : null}
      </div>
      {outcome?.kind === 'refused' ? <Problems rows={outcome.rows} caption="Problems in the file (row 1 is the header)" /> : null}
      {outcome?.kind === 'imported' ? <Created report={outcome.report} /> : null}
    </section>
  );
}

function Problems(props: { readonly rows: readonly RowProblem[]; readonly caption: string }) {
  return (
    <table class="data shipments-problems">
      <caption>{props.caption}</caption>
      <TableHead columns={['Row', 'Column', 'Problem']} />
      <tbody>
        {props.rows.map((r, index) => (
          <tr key={`${r.row}-${r.column}-${index}`}>
            <td>{r.row}</td>
            <td>{r.column === '' ? '—' : <code>{r.column}</code>}</td>
            <td>{r.message}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Created(props: { readonly report: Report }) {
  const { created, skipped } = props.report;
  return (
    <>
      {skipped.length === 0 ? null : <Problems rows={skipped} caption="Rows skipped, with their problems" />}
      {created.length === 0 ? null : (
        <>
          <h2>New shipments</h2>
          <p class="admin-once-note">
            <strong>The tracking links are shown only now.</strong> Send each recipient theirs; a shipment's page can issue a new one later (the old one then stops working).
          </p>
          <table class="data shipments-created">
            <caption class="shipments-sr">Shipments created by the import</caption>
            <TableHead columns={['Row', 'Shipment', 'Tracking link']} />
            <tbody>
              {created.map((c) => (
                <tr key={c.id}>
                  <td>{c.row}</td>
                  <td><a class="shipments-tracking" href={shipmentHref(c.id)}>{c.trackingNumber}</a></td>
                  <td><code class="shipments-link">{trackingUrl(c.trackingPath)}</code></td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </>
  );
}
