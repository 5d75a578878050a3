// RFC 3339 date-times (§5.6) with a mandatory zone, checked with one pattern
// and a few comparisons. Telemetry carries one per event, so this runs on the
// ingest hot path, where the generic format check of the schema library (three
// patterns and a split per value) showed up in profiles. Same rules: calendar
// days including leap years, a leap second only at 23:59:60 UTC, offsets up to
// ±23:59; RFC 9557 suffixes (`[Europe/Paris]`) are not accepted here.

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

export function isRfc3339DateTime(value: string): boolean {
  const m = DATE_TIME.exec(value);
  if (m === null) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1) return false;
  const days = month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  if (day > days) return false;
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (hour > 23 || minute > 59 || second > 60) return false;
  const sign = m[7] === '-' ? -1 : 1;
  const offsetHours = m[7] === undefined ? 0 : Number(m[8]);
  const offsetMinutes = m[7] === undefined ? 0 : Number(m[9]);
  if (offsetHours > 23 || offsetMinutes > 59) return false;
  if (second < 60) return true;
  const utcMinute = hour * 60 + minute - sign * (offsetHours * 60 + offsetMinutes);
  return ((utcMinute % 1440) + 1440) % 1440 === 1439;
}
