import { useState } from 'preact/hooks';
import { Field } from '../../ui/form.tsx';

// Exporting the trail for safekeeping elsewhere, as `rampart audit export`
// writes it: JSON Lines with a header (holding the audit public keys), every
// entry and every signed checkpoint. The download is a plain link to the API;
// the only thing in its address is the optional start date.

const EXPORT_PATH = '/api/v1/audit/export';

/** The export's address: everything, or entries from the start of `day` (UTC) on. */
function exportHref(day: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(day) ? `${EXPORT_PATH}?${new URLSearchParams({ since: `${day}T00:00:00.000Z` }).toString()}` : EXPORT_PATH;
}

export default function ExportTrailScreen() {
  const [since, setSince] = useState('');
  const href = exportHref(since);
  return (
    <section aria-labelledby="export-title">
      <h1 id="export-title">Export the audit trail</h1>
      <p class="audit-lead">
        The export is a JSON Lines file: a header with the audit signing keys' public halves, then every entry and every signed checkpoint in order. Keep it
        somewhere Rampart cannot write to; it can be verified there without the server.
      </p>
      <div class="card audit-export">
        <Field label="Only entries from this day on (UTC)" type="date" name="since" value={since} onInput={setSince} hint="Leave empty for the whole trail. The entry just before that day is included, so its link can be checked." />
        <p>
          <a class="button primary" href={href} download>{since === '' ? 'Download the whole trail' : 'Download entries from this day on'}</a>
        </p>
      </div>
      <h2>Verifying an export</h2>
      <p>
        Save the server's public keys through a separate channel (<a href="/.well-known/jwks.json">the published key set</a>), then run:
      </p>
      <pre class="audit-command"><code>rampart audit verify --export rampart-audit.jsonl --jwks jwks.json</code></pre>
      <p class="hint">The copy of the keys inside the export is for reference only: an altered file could carry altered keys.</p>
    </section>
  );
}
