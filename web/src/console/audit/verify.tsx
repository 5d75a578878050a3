import { useEffect, useRef, useState } from 'preact/hooks';
import { api, client } from '../../api/client.ts';
import type { Ok } from '../../api/types.ts';
import { Button, ErrorNote } from '../../ui/form.tsx';
import { count, plural, Time } from './format.tsx';
import { entryHref } from './trail.tsx';
import { TableHead } from '../../ui/table.tsx';

// Verifying the chain, as `rampart audit verify` does: every entry's hash and
// link, every checkpoint's signature, and that the chain ends at the head.
// The server walks the trail; while it does, the screen asks how far it has
// got. The result is said plainly, each problem naming its entry.

type Report = Ok<'/api/v1/audit/verify', 'post'>;
type Problem = Report['problems'][number];

const POLL_MS = 1_000;

export default function VerifyChainScreen() {
  const [report, setReport] = useState<Report | undefined>(undefined);
  const [checkedAt, setCheckedAt] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState<{ done: number; total: number } | undefined>(undefined);
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );

  // While the walk runs, how far it has got (every second; a missing answer just waits for the next).
  useEffect(() => {
    if (!busy) return undefined;
    const timer = setInterval(() => {
      api(() => client.GET('/api/v1/audit/verify'))
        .then((answer) => {
          if (mounted.current && answer.running) setProgress({ done: answer.done, total: answer.total });
        })
        .catch(() => undefined);
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [busy]);

  const verify = async () => {
    setBusy(true);
    setError(undefined);
    setProgress(undefined);
    try {
      const answer = await api(() => client.POST('/api/v1/audit/verify'));
      if (!mounted.current) return;
      setReport(answer);
      setCheckedAt(new Date().toISOString());
    } catch (failure) {
      if (mounted.current) setError(failure);
    } finally {
      if (mounted.current) setBusy(false);
    }
  };

  return (
    <section aria-labelledby="verify-title">
      <h1 id="verify-title">Verify the audit chain</h1>
      <p class="audit-lead">
        Every entry carries the hash of the one before it, and the server signs checkpoints of the chain. Verification recomputes every hash, checks every link and
        checkpoint signature, and that the chain ends where the server last wrote. Any entry changed, deleted, inserted or moved in the database shows here.
      </p>
      <Button busy={busy} onClick={() => void verify()}>{report === undefined ? 'Verify' : 'Verify again'}</Button>
      <div role="status" aria-live="polite" class="audit-verify-status">
        {busy ? <p>{progress === undefined || progress.total === 0 ? 'Verifying the chain…' : `Verifying the chain… ${count(progress.done)} of ${plural(progress.total, 'entry', 'entries')} checked.`}</p> : null}
        {!busy && report !== undefined ? <Verdict report={report} /> : null}
      </div>
      <ErrorNote error={error} />
      {!busy && report !== undefined ? <Details report={report} checkedAt={checkedAt} /> : null}
    </section>
  );
}

function Verdict(props: { readonly report: Report }) {
  const { report } = props;
  if (report.ok) {
    const last = report.lastCheckpoint;
    return (
      <div class="audit-verdict ok">
        <p class="audit-verdict-line">
          <span class="badge ok">Intact</span> Chain intact: {plural(report.entries, 'entry', 'entries')}
          {last === null ? ', no checkpoint yet.' : <>, last checkpoint at entry {count(last.seq)}, signed <Time iso={last.at} style="seconds" />.</>}
        </p>
      </div>
    );
  }
  const first = report.firstProblem;
  return (
    <div class="audit-verdict bad">
      <p class="audit-verdict-line">
        <span class="badge bad">Altered</span> {first === null ? 'The chain failed verification.' : <ProblemHeadline problem={first} />}
      </p>
      <p>{report.problemCount === 1 ? 'This is the only problem found.' : `${plural(report.problemCount, 'problem', 'problems')} found; the first is named above.`} Investigate before trusting the trail.</p>
    </div>
  );
}

/** The problem in words, as an auditor would say it, linking to the entry when it is stored. */
function ProblemHeadline(props: { readonly problem: Problem }) {
  const { seq, kind } = props.problem;
  if (seq === null) return <>An entry stored without a number was added outside Rampart.</>;
  const entry = <a href={entryHref(seq)}>Entry {count(seq)}</a>;
  switch (kind) {
    case 'modified':
      return <>{entry} was modified.</>;
    case 'inserted':
      return <>{entry} was inserted.</>;
    case 'reordered':
      return <>{entry} was moved (reordered).</>;
    case 'deleted':
      return <>Entry {count(seq)} was deleted.</>;
    case 'truncated':
      return <>The chain was cut short after entry {count(seq)}.</>;
    case 'checkpoint_invalid':
      return <>The checkpoint at {entry} has an invalid signature.</>;
    case 'checkpoint_mismatch':
      return <>The checkpoint at {entry} no longer matches that entry.</>;
  }
}

function Details(props: { readonly report: Report; readonly checkedAt: string | undefined }) {
  const { report } = props;
  return (
    <>
      <h2>What was checked</h2>
      <dl class="facts">
        <dt>Entries</dt>
        <dd>{count(report.entries)}</dd>
        <dt>Checkpoints</dt>
        <dd>{count(report.checkpoints)}</dd>
        <dt>End of the chain</dt>
        <dd>{report.head === null ? '—' : `entry ${count(report.head.seq)}`}</dd>
        <dt>Newest matching checkpoint</dt>
        <dd>{report.lastCheckpoint === null ? 'none: the chain alone vouches for the entries' : <>entry {count(report.lastCheckpoint.seq)}, signed <Time iso={report.lastCheckpoint.at} style="seconds" /></>}</dd>
        {props.checkedAt === undefined ? null : (
          <>
            <dt>Verified</dt>
            <dd><Time iso={props.checkedAt} style="seconds" /></dd>
          </>
        )}
      </dl>
      {report.ok && report.head !== null && report.head.seq > (report.lastCheckpoint?.seq ?? 0) ? (
        <p class="hint">
          {report.lastCheckpoint === null ? 'No checkpoint has been signed yet' : `Entries after ${count(report.lastCheckpoint.seq)} are not yet covered by a checkpoint`}; the server signs one regularly.
        </p>
      ) : null}
      {report.problems.length === 0 ? null : (
        <>
          <h2>Problems</h2>
          {report.problemCount > report.problems.length ? <p>The first {count(report.problems.length)} of {count(report.problemCount)} are listed.</p> : null}
          <table class="data">
            <TableHead columns={['Entry', 'Kind', 'What was found']} />
            <tbody>
              {report.problems.map((problem, index) => (
                <tr key={`${problem.seq ?? 'none'}-${problem.kind}-${index}`}>
                  <td>{problem.seq === null ? '?' : problem.kind === 'deleted' || problem.kind === 'truncated' ? count(problem.seq) : <a href={entryHref(problem.seq)}>{count(problem.seq)}</a>}</td>
                  <td>{problem.kind.replace('_', ' ')}</td>
                  <td>{problem.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </>
  );
}
