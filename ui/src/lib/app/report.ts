import type { ReportFigures, ReportGroup, ReportStream, StoredIncomeReport } from '../../bindings';
import { sumDecimals } from '../format/decimal';

/** How regularly a stream pays, judged from its monthly figures. */
export type Regularity =
  | { kind: 'monthly' }
  | { kind: 'several'; perMonth: number }
  | { kind: 'irregular'; count: number }
  | { kind: 'unknown' };

/**
 * How regular a stream is, from its number of bookings over the months it was active (first to last
 * booking; else the months the summary covers): about one booking a month is monthly, clearly more
 * is "several a month", fewer (months without any) is irregular.
 */
export function regularity(stream: Pick<ReportStream, 'summary' | 'first_booked_on' | 'last_booked_on'>): Regularity {
  const count = stream.summary?.count ?? null;
  const months = activeMonths(stream.first_booked_on, stream.last_booked_on) ?? monthsOf(stream.summary);
  if (count === null || months === null) return { kind: 'unknown' };
  const perMonth = count / months;
  if (perMonth < 0.75) return { kind: 'irregular', count };
  return perMonth <= 1.5 ? { kind: 'monthly' } : { kind: 'several', perMonth: Math.round(perMonth) };
}

/** Calendar months from the first to the last booking, both included ("2025-10-30".."2026-02-27" → 5). */
function activeMonths(first: string | null, last: string | null): number | null {
  const parse = (d: string | null) => (d && /^\d{4}-\d{2}/.test(d) ? Number(d.slice(0, 4)) * 12 + Number(d.slice(5, 7)) : null);
  const a = parse(first);
  const b = parse(last);
  return a === null || b === null || b < a ? null : b - a + 1;
}

/** The months a summary covers (total / average), when it says. */
function monthsOf(summary: ReportFigures | null): number | null {
  const total = Number(summary?.total ?? NaN);
  const average = Number(summary?.average ?? NaN);
  if (!(total > 0) || !(average > 0)) return null;
  return Math.max(1, Math.round(total / average));
}

/**
 * The months the report's figures cover: finX computes over the complete months the loaded history
 * holds, which can be fewer than the period asked for.
 */
export function coveredMonths(report: StoredIncomeReport): number | null {
  return monthsOf(report.report.income.summary) ?? report.report.period_months;
}

/** The sum of the groups' monthly averages (exact decimals). */
export function monthlyTotal(groups: readonly ReportGroup[]): string {
  return sumDecimals(groups.map((g) => g.summary?.average ?? '0'));
}

/** The report's currency (finX names it; EUR otherwise). */
export function reportCurrency(report: StoredIncomeReport): string {
  return report.report.currency ?? 'EUR';
}

/** A ratio like "0.55" as a percentage in the user's locale. */
export function formatRatio(ratio: string | null | undefined, intl: string): string | null {
  if (ratio === null || ratio === undefined) return null;
  const value = Number(ratio);
  if (!Number.isFinite(value)) return null;
  return new Intl.NumberFormat(intl, { style: 'percent', maximumFractionDigits: 0 }).format(value);
}

/** The name of a stream: who pays (or is paid), else its category. */
export function streamName(stream: { payment_partner: string | null; category: string | null }): string {
  return stream.payment_partner?.trim() || stream.category?.trim() || '—';
}
