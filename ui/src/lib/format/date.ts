/**
 * Calendar dates from the core are plain "YYYY-MM-DD" (no time zone). They are built as local
 * dates, never through `new Date("YYYY-MM-DD")`, which is UTC and shifts a day west of Greenwich.
 */
export function parseIsoDate(value: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  const date = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(date.getTime()) ? null : date;
}

export function formatDate(value: string, locale: string, style: 'medium' | 'long' = 'medium'): string {
  const date = parseIsoDate(value);
  if (!date) return value;
  return new Intl.DateTimeFormat(locale, { dateStyle: style }).format(date);
}

export function formatToday(locale: string, now: Date = new Date()): string {
  return new Intl.DateTimeFormat(locale, { weekday: 'long', day: 'numeric', month: 'long' }).format(now);
}

/**
 * When something happened, for "Synced …": "5 minutes ago" within the hour, "today, 14:32" on the
 * same day, else "21 Nov 2026, 07:45". `iso` is an RFC 3339 timestamp.
 */
export function formatRecent(iso: string, locale: string, now: Date = new Date()): string {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return iso;
  const minutes = Math.round((now.getTime() - when.getTime()) / 60_000);
  const relative = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  if (minutes >= 0 && minutes < 60) return relative.format(-minutes, 'minute');
  const time = new Intl.DateTimeFormat(locale, { timeStyle: 'short' }).format(when);
  if (when.toDateString() === now.toDateString()) return `${relative.format(0, 'day')}, ${time}`;
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(when);
}
