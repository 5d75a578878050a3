// Numbers and times in words, for every screen: counts with thousands
// separators, "1 entry" / "3 entries", and instants as <time> elements in the
// browser's time zone (the machine-readable ISO value in `dateTime`).

const COUNT = new Intl.NumberFormat('en-GB');
const FORMATS = {
  'date-time': new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' }),
  seconds: new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'medium' }),
  clock: new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' }),
} as const;

export function count(n: number): string {
  return COUNT.format(n);
}

/** "1 entry", "1,234 entries". */
export function plural(n: number, one: string, many: string): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}

/**
 * An instant: `date-time` (default) "7 Dec 2026, 09:30", `seconds` with the
 * seconds, `clock` only the time of day (the full date and time in its title).
 */
export function Time(props: { readonly iso: string | null | undefined; readonly style?: keyof typeof FORMATS; readonly empty?: string }) {
  if (props.iso === null || props.iso === undefined) return <span class="muted">{props.empty ?? '—'}</span>;
  const at = new Date(props.iso);
  if (Number.isNaN(at.getTime())) return <span>{props.iso}</span>;
  const style = props.style ?? 'date-time';
  return (
    <time dateTime={props.iso} title={style === 'clock' ? FORMATS['date-time'].format(at) : undefined}>
      {FORMATS[style].format(at)}
    </time>
  );
}
