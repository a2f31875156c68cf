import { describe, expect, it } from 'vitest';
import type { TransactionPage as CorePage } from '../../bindings';
import { coreQuery, PageTotals, uiDetail, uiMonthlySums } from './coreTransactions';

const row = (id: number, amount: string, running_balance: string | null = null) => ({
  id,
  account_id: 'a1',
  booking_date: '2026-11-30',
  value_date: null,
  amount,
  currency: 'EUR',
  status: 'booked' as const,
  counterparty_name: 'REWE',
  counterparty_iban: null,
  purpose: 'Einkauf',
  kind: 'Kartenzahlung',
  running_balance,
});

describe('the core query of a UI query', () => {
  it('maps every filter, sizes of amounts, the order and the cursor', () => {
    expect(
      coreQuery({
        accounts: ['a1', 'a2'],
        from: '2026-01-01',
        to: '2026-01-31',
        min: '50',
        max: '100.5',
        direction: 'out',
        status: 'pending',
        text: 'rewe',
        order: 'oldest',
        after: '2026-01-03_17',
        limit: 200,
      }),
    ).toEqual({
      accounts: ['a1', 'a2'],
      from: '2026-01-01',
      to: '2026-01-31',
      min_amount: '50',
      max_amount: '100.5',
      amounts_as_magnitudes: true,
      direction: 'outgoing',
      status: 'pending',
      text: 'rewe',
      oldest_first: true,
      after: '2026-01-03_17',
      limit: 200,
    });
  });

  it('leaves out what is not set', () => {
    expect(coreQuery({ order: 'newest', accounts: [], text: '  ', after: null, limit: 100 })).toEqual({ limit: 100 });
    expect(coreQuery({ direction: 'in' })).toEqual({ direction: 'incoming' });
  });
});

describe('pages and totals', () => {
  it('carries the first page totals over to the later pages of the same list only', () => {
    const totals = new PageTotals();
    const first: CorePage = {
      transactions: [row(2, '-10.50', '1234.56'), row(1, '3')],
      next: '2026-11-30_1',
      totals: [
        { currency: 'EUR', count: 3, sum: '-12.25' },
        { currency: 'USD', count: 1, sum: '5' },
      ],
    };
    const query = { order: 'newest' as const, text: 'rewe', limit: 2 };
    const page = totals.page({ ...query, after: null }, first);
    expect(page).toMatchObject({ next_cursor: '2026-11-30_1', total_count: 4, total_sum: '-7.25' });
    expect(page.rows.map((r) => r.id)).toEqual(['2', '1']);
    expect(page.rows.map((r) => r.running_balance)).toEqual(['1234.56', null]);

    const second = totals.page({ ...query, after: '2026-11-30_1' }, { transactions: [row(0, '1')], next: null, totals: null });
    expect(second).toMatchObject({ next_cursor: null, total_count: 4, total_sum: '-7.25' });
    const other = totals.page({ ...query, text: 'edeka', after: 'x' }, { transactions: [], next: null, totals: null });
    expect(other).toMatchObject({ total_count: 0, total_sum: '0' });
  });

  it('maps details and monthly sums (spending as a size, months merged across currencies, oldest first)', () => {
    const detail = uiDetail({
      ...row(7, '-1'),
      account_name: 'Girokonto',
      bank_name: 'Demo Bank',
      provider_id: 'p7',
      counterparty_bic: null,
      raw: '{"id":7}',
      first_seen_at: null,
      updated_at: null,
      pending_match: { rule: 'provider_id', pending_provider_id: 'p7', pending_date: '2026-11-28', days_apart: 2, fields: [] },
    });
    expect(detail).toMatchObject({ id: '7', raw: '{"id":7}', pending_match: { rule: 'provider_id', days_apart: 2 } });
    expect(
      uiMonthlySums([
        { account_id: 'a', month: '2026-02', currency: 'EUR', count: 2, income: '10', spending: '-4.5' },
        { account_id: 'a', month: '2026-01', currency: 'EUR', count: 1, income: '0', spending: '-1' },
        { account_id: 'b', month: '2026-02', currency: 'EUR', count: 1, income: '2.5', spending: '0' },
      ]),
    ).toEqual([
      { month: '2026-01', income: '0', spending: '1' },
      { month: '2026-02', income: '12.5', spending: '4.5' },
    ]);
  });
});
