import type { TransactionDirection, TransactionFilter, TransactionStatus } from '../backend/types';
import type { Locale } from '../i18n/types';

export type PeriodPreset = 'all' | 'this-month' | 'last-month' | 'this-year' | 'custom';
export const PERIOD_PRESETS: readonly PeriodPreset[] = ['all', 'this-month', 'last-month', 'this-year', 'custom'];

/** The filter chips as the user set them (text fields as typed). */
export interface FilterChips {
  account: string | null;
  period: PeriodPreset;
  /** Custom range (YYYY-MM-DD or empty), used when period is "custom". */
  from: string;
  to: string;
  direction: TransactionDirection | null;
  /** As typed: "12,50", "1.234,50", "12.5" or empty. */
  min: string;
  max: string;
  status: TransactionStatus | null;
  text: string;
}

export function emptyChips(): FilterChips {
  return { account: null, period: 'all', from: '', to: '', direction: null, min: '', max: '', status: null, text: '' };
}

function iso(date: Date): string {
  const m = String(date.getMonth() + 1).padStart(2, '0');
  const d = String(date.getDate()).padStart(2, '0');
  return `${date.getFullYear()}-${m}-${d}`;
}

/** The date range of a preset, in the user's calendar (local dates), inclusive. */
export function periodRange(preset: PeriodPreset, today: Date, custom: { from: string; to: string } = { from: '', to: '' }): {
  from?: string;
  to?: string;
} {
  const y = today.getFullYear();
  const m = today.getMonth();
  switch (preset) {
    case 'this-month':
      return { from: iso(new Date(y, m, 1)), to: iso(new Date(y, m + 1, 0)) };
    case 'last-month':
      return { from: iso(new Date(y, m - 1, 1)), to: iso(new Date(y, m, 0)) };
    case 'this-year':
      return { from: `${y}-01-01`, to: `${y}-12-31` };
    case 'custom': {
      const valid = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s);
      return { ...(valid(custom.from) ? { from: custom.from } : {}), ...(valid(custom.to) ? { to: custom.to } : {}) };
    }
    default:
      return {};
  }
}

/**
 * A date as a user types it, in Kontor's language rather than the WebView's: "1.3.2025",
 * "01.03.2025" and "1.3.25" (German) or "2025-03-01" (ISO, accepted in both languages) → "2025-03-01".
 * Empty → null; a partial or impossible date ("31.02.2025") → undefined (invalid).
 */
export function parseDateInput(input: string): string | null | undefined {
  const s = input.trim();
  if (s === '') return null;
  const german = /^(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})$/.exec(s);
  const isoMatch = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s);
  let year: number, month: number, day: number;
  if (german) {
    [day, month, year] = [Number(german[1]), Number(german[2]), Number(german[3])];
    if ((german[3] ?? '').length === 2) year += 2000;
  } else if (isoMatch) {
    [year, month, day] = [Number(isoMatch[1]), Number(isoMatch[2]), Number(isoMatch[3])];
  } else {
    return undefined;
  }
  const date = new Date(Date.UTC(year, month - 1, day));
  if (year < 1000 || date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return undefined;
  }
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** An ISO date (YYYY-MM-DD) as the date field shows it: "01.03.2025" in German, ISO in English; '' stays ''. */
export function formatDateInput(isoDate: string, locale: Locale): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  if (!m) return isoDate;
  return locale === 'de' ? `${m[3]}.${m[2]}.${m[1]}` : isoDate;
}

/**
 * An amount as a user types it, in either notation, to the backend's decimal string:
 * "12,5" → "12.5", "1.234,50" → "1234.50", "1,234.50" → "1234.50", "-3" → "3" (a bound on the
 * magnitude). Empty → null; anything else → undefined (invalid).
 */
export function parseAmountInput(input: string): string | null | undefined {
  let s = input.replace(/[\s\u00a0\u202f€]/g, '').replace(/^[+-]/, '');
  if (s === '') return null;
  const lastComma = s.lastIndexOf(',');
  const lastDot = s.lastIndexOf('.');
  if (lastComma >= 0 && lastDot >= 0) {
    // the later separator is the decimal one; the other groups thousands
    s = lastComma > lastDot ? s.replace(/\./g, '').replace(',', '.') : s.replace(/,/g, '');
  } else if (lastComma >= 0) {
    s = s.replace(',', '.');
  } else if (lastDot >= 0 && /^\d{1,3}(\.\d{3})+$/.test(s)) {
    s = s.replace(/\./g, ''); // "1.234" with German grouping
  }
  return /^\d+(\.\d+)?$/.test(s) ? s : undefined;
}

/** The backend filter for the chips; `fixedAccount` (the account page) overrides the account chip. */
export function buildFilter(chips: FilterChips, today: Date, fixedAccount?: string): TransactionFilter {
  const filter: TransactionFilter = {};
  const account = fixedAccount ?? chips.account;
  if (account) filter.accounts = [account];
  Object.assign(filter, periodRange(chips.period, today, chips));
  const min = parseAmountInput(chips.min);
  const max = parseAmountInput(chips.max);
  if (typeof min === 'string') filter.min = min;
  if (typeof max === 'string') filter.max = max;
  if (chips.direction) filter.direction = chips.direction;
  if (chips.status) filter.status = chips.status;
  const text = chips.text.trim().replace(/\s+/g, ' ');
  if (text) filter.text = text;
  return filter;
}

/** How many chips narrow the list (the search text not counted). */
export function activeChips(chips: FilterChips, fixedAccount?: string): number {
  let n = 0;
  if (!fixedAccount && chips.account) n++;
  if (chips.period !== 'all') n++;
  if (chips.direction) n++;
  if (chips.min.trim() || chips.max.trim()) n++;
  if (chips.status) n++;
  return n;
}
