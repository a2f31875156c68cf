import type { TransactionRow } from '../backend/types';

/**
 * Windowing for the transaction list: items have one of two fixed heights (a transaction row or a
 * date header), so every item's offset is known without measuring, and only the items that
 * intersect the viewport (plus `overscan` on each side) are rendered.
 */

export const ROW_HEIGHT = 64;
export const HEADER_HEIGHT = 32;
export const OVERSCAN = 8;

export type ListItem =
  | { kind: 'header'; key: string; date: string }
  | { kind: 'row'; key: string; row: TransactionRow; /** index into the loaded rows */ index: number };

export interface Layout {
  items: ListItem[];
  /** Start offset (px) of each item; offsets[items.length] is the total height. */
  offsets: number[];
  /** Item index of each loaded row. */
  rowItem: number[];
}

export function itemHeight(item: ListItem): number {
  return item.kind === 'header' ? HEADER_HEIGHT : ROW_HEIGHT;
}

/** A date header before the first row of each booking date, then the rows. */
export function layout(rows: readonly TransactionRow[]): Layout {
  const items: ListItem[] = [];
  const offsets: number[] = [];
  const rowItem: number[] = [];
  let y = 0;
  let date: string | null = null;
  rows.forEach((row, index) => {
    if (row.booking_date !== date) {
      date = row.booking_date;
      items.push({ kind: 'header', key: `h:${date}:${index}`, date });
      offsets.push(y);
      y += HEADER_HEIGHT;
    }
    rowItem.push(items.length);
    items.push({ kind: 'row', key: row.id, row, index });
    offsets.push(y);
    y += ROW_HEIGHT;
  });
  offsets.push(y);
  return { items, offsets, rowItem };
}

/** The index of the item at pixel `y` (the last item starting at or before it). */
export function itemAt(offsets: readonly number[], count: number, y: number): number {
  let lo = 0;
  let hi = count - 1;
  if (hi < 0) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if ((offsets[mid] ?? 0) <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Which items to render for a scroll position: `[start, end)` covering `[scrollTop, scrollTop +
 * viewport)` plus `overscan` items before and after.
 */
export function visibleRange(
  offsets: readonly number[],
  count: number,
  scrollTop: number,
  viewport: number,
  overscan: number = OVERSCAN,
): { start: number; end: number } {
  if (count === 0) return { start: 0, end: 0 };
  const total = offsets[count] ?? 0;
  const top = Math.max(0, Math.min(scrollTop, Math.max(0, total - viewport)));
  const first = itemAt(offsets, count, top);
  const last = itemAt(offsets, count, Math.max(top, top + viewport - 1));
  return { start: Math.max(0, first - overscan), end: Math.min(count, last + 1 + overscan) };
}

/** The largest scroll position (the end of the list at the bottom of the viewport). */
export function maxScrollTop(offsets: readonly number[], count: number, viewport: number): number {
  return Math.max(0, (offsets[count] ?? 0) - viewport);
}

/**
 * The scroll position that shows item `index` whole, moving as little as possible (for keyboard
 * selection); `headerAbove` also keeps a date header right above the row in view.
 */
export function revealItem(
  offsets: readonly number[],
  index: number,
  scrollTop: number,
  viewport: number,
  headerAbove = 0,
): number {
  const top = (offsets[index] ?? 0) - headerAbove;
  const bottom = offsets[index + 1] ?? top;
  if (top < scrollTop) return Math.max(0, top);
  if (bottom > scrollTop + viewport) return Math.max(0, bottom - viewport);
  return scrollTop;
}

/** Load the next page when the rendered window gets within `margin` items of the loaded end. */
export function needsMore(end: number, count: number, hasMore: boolean, margin = 40): boolean {
  return hasMore && end >= count - margin;
}
