import { describe, expect, it } from 'vitest';
import type { TransactionRow } from '../backend/types';
import { HEADER_HEIGHT, itemAt, layout, maxScrollTop, needsMore, revealItem, ROW_HEIGHT, visibleRange } from './windowing';

function rows(dates: string[]): TransactionRow[] {
  return dates.map((booking_date, i) => ({
    id: `tx-${i}`,
    account_id: 'a',
    booking_date,
    value_date: null,
    amount: '-1.00',
    currency: 'EUR',
    counterparty_name: null,
    counterparty_iban: null,
    purpose: null,
    kind: null,
    status: 'booked',
    running_balance: null,
  }));
}

/** Offsets of n equal rows (no headers), as for a million rows on one day. */
function uniform(n: number): number[] {
  return Array.from({ length: n + 1 }, (_, i) => i * ROW_HEIGHT);
}

describe('layout', () => {
  it('puts a date header before the first row of each day', () => {
    const l = layout(rows(['2026-11-20', '2026-11-20', '2026-11-19', '2026-11-17']));
    expect(l.items.map((i) => i.kind)).toEqual(['header', 'row', 'row', 'header', 'row', 'header', 'row']);
    expect(l.offsets).toEqual([0, 32, 96, 160, 192, 256, 288, 352]);
    expect(l.rowItem).toEqual([1, 2, 4, 6]);
    expect(HEADER_HEIGHT).toBeLessThan(ROW_HEIGHT);
  });

  it('is empty for no rows', () => {
    const l = layout([]);
    expect(l.items).toEqual([]);
    expect(l.offsets).toEqual([0]);
    expect(visibleRange(l.offsets, 0, 0, 600)).toEqual({ start: 0, end: 0 });
  });
});

describe('visibleRange', () => {
  const n = 1_000_000;
  const offsets = uniform(n);

  it('renders the rows in the viewport plus the overscan, at the top', () => {
    // 640 px shows rows 0..9 (10 rows of 64 px); 8 more below
    expect(visibleRange(offsets, n, 0, 640, 8)).toEqual({ start: 0, end: 18 });
    expect(visibleRange(offsets, n, 0, 640, 0)).toEqual({ start: 0, end: 10 });
  });

  it('follows the scroll offset, a partly visible row included', () => {
    // 100 px down: row 1 (64..128) is the first visible, row 11 (704..768) the last partly visible one
    expect(visibleRange(offsets, n, 100, 640, 0)).toEqual({ start: 1, end: 12 });
    expect(visibleRange(offsets, n, 100, 640, 3)).toEqual({ start: 0, end: 15 });
    const mid = 500_000 * ROW_HEIGHT + 10;
    expect(visibleRange(offsets, n, mid, 640, 5)).toEqual({ start: 499_995, end: 500_016 });
  });

  it('stays a small window at any depth of a million rows', () => {
    for (const y of [0, 1234, 31_999_936, 63_999_360]) {
      const r = visibleRange(offsets, n, y, 900);
      expect(r.end - r.start).toBeLessThanOrEqual(Math.ceil(900 / ROW_HEIGHT) + 1 + 16);
      expect(r.end).toBeGreaterThan(r.start);
    }
  });

  it('jumping to the end shows the last rows, and overshooting clamps to it', () => {
    const end = maxScrollTop(offsets, n, 640);
    expect(end).toBe(n * ROW_HEIGHT - 640);
    expect(visibleRange(offsets, n, end, 640, 8)).toEqual({ start: n - 10 - 8, end: n });
    expect(visibleRange(offsets, n, end + 99_999, 640, 8)).toEqual({ start: n - 10 - 8, end: n });
    expect(visibleRange(offsets, n, -50, 640, 0)).toEqual({ start: 0, end: 10 });
  });

  it('handles mixed header and row heights', () => {
    const l = layout(rows(['2026-11-20', '2026-11-20', '2026-11-19', '2026-11-17']));
    // items: h 0-32, r 32-96, r 96-160, h 160-192, r 192-256, h 256-288, r 288-352
    expect(itemAt(l.offsets, l.items.length, 0)).toBe(0);
    expect(itemAt(l.offsets, l.items.length, 159)).toBe(2);
    expect(itemAt(l.offsets, l.items.length, 160)).toBe(3);
    expect(visibleRange(l.offsets, l.items.length, 100, 80, 0)).toEqual({ start: 2, end: 4 }); // 100..180: items 2 and 3
    expect(visibleRange(l.offsets, l.items.length, 100, 100, 0)).toEqual({ start: 2, end: 5 }); // 100..200 reaches item 4
    expect(visibleRange(l.offsets, l.items.length, 0, 10_000, 2)).toEqual({ start: 0, end: 7 });
  });
});

describe('revealItem and paging', () => {
  const offsets = uniform(100);

  it('scrolls as little as needed to show a selected row', () => {
    expect(revealItem(offsets, 3, 0, 640)).toBe(0); // already visible
    expect(revealItem(offsets, 10, 0, 640)).toBe(11 * ROW_HEIGHT - 640); // just below: bottom-align
    expect(revealItem(offsets, 2, 500, 640)).toBe(2 * ROW_HEIGHT); // above: top-align
    expect(revealItem(offsets, 2, 500, 640, HEADER_HEIGHT)).toBe(2 * ROW_HEIGHT - HEADER_HEIGHT);
  });

  it('asks for the next page only near the loaded end and while there is more', () => {
    expect(needsMore(18, 400, true)).toBe(false);
    expect(needsMore(361, 400, true)).toBe(true);
    expect(needsMore(400, 400, false)).toBe(false);
  });
});
