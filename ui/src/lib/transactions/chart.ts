import type { BalancePoint, MonthlySums } from '../backend/types';
import { signOf } from '../format/decimal';

/**
 * Geometry for the account page's charts. Amounts become numbers only here, to place pixels;
 * every figure shown as text is formatted from the exact decimal strings.
 */

export interface Box {
  width: number;
  height: number;
  pad: number;
}

export interface LineChart {
  /** The SVG path ("M x y L x y …"), empty without data. */
  path: string;
  /** The same path closed to the baseline, for a soft fill. */
  area: string;
  /** y of the zero line when zero lies within the range, else null. */
  zeroY: number | null;
  low: BalancePoint | null;
  high: BalancePoint | null;
  first: BalancePoint | null;
  last: BalancePoint | null;
}

/** Days since 1970 of a YYYY-MM-DD date (UTC, no time zone shift). */
function dayNumber(iso: string): number {
  const [y, m, d] = iso.split('-').map(Number);
  return Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1) / 86_400_000;
}

/** A step-free line through the balances, x by date and y by amount (max at the top). */
export function balanceLine(points: readonly BalancePoint[], box: Box): LineChart {
  const empty = { path: '', area: '', zeroY: null, low: null, high: null, first: null, last: null };
  if (points.length === 0) return empty;
  const values = points.map((p) => Number(p.balance));
  const days = points.map((p) => dayNumber(p.date));
  let lowIdx = 0;
  let highIdx = 0;
  values.forEach((v, i) => {
    if (v < (values[lowIdx] ?? v)) lowIdx = i;
    if (v > (values[highIdx] ?? v)) highIdx = i;
  });
  const min = values[lowIdx] ?? 0;
  const max = values[highIdx] ?? 0;
  const span = max - min || 1;
  const d0 = days[0] ?? 0;
  const dSpan = (days[days.length - 1] ?? 0) - d0 || 1;
  const innerW = box.width - 2 * box.pad;
  const innerH = box.height - 2 * box.pad;
  const x = (d: number) => box.pad + ((d - d0) / dSpan) * innerW;
  const y = (v: number) => box.pad + (1 - (v - min) / span) * innerH;
  const coords = values.map((v, i) => `${x(days[i] ?? 0).toFixed(1)} ${y(v).toFixed(1)}`);
  if (coords.length === 1) coords.push(`${(box.width - box.pad).toFixed(1)} ${y(values[0] ?? 0).toFixed(1)}`);
  const path = `M${coords.join(' L')}`;
  const bottom = (box.height - box.pad).toFixed(1);
  const area = `${path} L${(box.width - box.pad).toFixed(1)} ${bottom} L${box.pad.toFixed(1)} ${bottom} Z`;
  return {
    path,
    area,
    zeroY: min < 0 && max > 0 ? Number(y(0).toFixed(1)) : null,
    low: points[lowIdx] ?? null,
    high: points[highIdx] ?? null,
    first: points[0] ?? null,
    last: points[points.length - 1] ?? null,
  };
}

export interface Bar {
  month: string;
  income: string;
  spending: string;
  /** Bar heights in px. */
  incomeHeight: number;
  spendingHeight: number;
  x: number;
}

/** Paired bars for the last `months` months, scaled to the largest value. */
export function monthlyBars(sums: readonly MonthlySums[], box: Box, months = 12): Bar[] {
  const recent = sums.slice(-months);
  const peak = Math.max(0, ...recent.flatMap((m) => [Number(m.income), Number(m.spending)])) || 1;
  const innerH = box.height - 2 * box.pad;
  const slot = (box.width - 2 * box.pad) / Math.max(1, recent.length);
  const h = (v: string) => (signOf(v) > 0 ? Math.max(1, (Number(v) / peak) * innerH) : 0);
  return recent.map((m, i) => ({
    month: m.month,
    income: m.income,
    spending: m.spending,
    incomeHeight: h(m.income),
    spendingHeight: h(m.spending),
    x: box.pad + i * slot,
  }));
}
