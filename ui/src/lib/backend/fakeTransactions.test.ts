import { describe, expect, it } from 'vitest';
import { sumDecimals } from '../format/decimal';
import { FakeBackend } from './fake';
import { FakeLedger, matchesText } from './fakeTransactions';
import { DEMO_ACCOUNTS } from './fixtures';
import type { TransactionQuery, TransactionRow } from './types';

async function allPages(backend: FakeBackend, query: Omit<TransactionQuery, 'after'>): Promise<TransactionRow[]> {
  const rows: TransactionRow[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await backend.transactions({ ...query, after });
    rows.push(...page.rows);
    if (page.next_cursor === null) return rows;
    after = page.next_cursor;
  }
}

describe('fake transactions', () => {
  it('pages a million rows by cursor without generating them all', async () => {
    const backend = new FakeBackend({ accounts: DEMO_ACCOUNTS, transactionCount: 1_000_000 });
    const first = await backend.transactions({ order: 'newest', limit: 50 });
    expect(first.rows).toHaveLength(50);
    expect(first.total_count).toBe(1_000_000);
    expect(first.next_cursor).not.toBeNull();
    const second = await backend.transactions({ order: 'newest', limit: 50, after: first.next_cursor });
    expect(second.rows[0]?.id).not.toBe(first.rows[49]?.id);
    const oldest = await backend.transactions({ order: 'oldest', limit: 5 });
    expect(oldest.rows[0]?.id).toBe('tx-0000001');
    expect((oldest.rows[0]?.booking_date ?? 'z') < (first.rows[0]?.booking_date ?? '')).toBe(true);
    // dates never increase going down the newest-first list
    const dates = [...first.rows, ...second.rows].map((r) => r.booking_date);
    expect([...dates].sort().reverse()).toEqual(dates);
  });

  it('covers a filtered set with no gaps and no duplicates, and the count and sum match the rows', async () => {
    const backend = new FakeBackend({ accounts: DEMO_ACCOUNTS, transactionCount: 3_000 });
    const query = { accounts: ['acc-visa'], direction: 'out' as const, order: 'newest' as const, limit: 37 };
    const rows = await allPages(backend, query);
    const page = await backend.transactions(query);
    expect(rows.length).toBe(page.total_count);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    expect(rows.every((r) => r.account_id === 'acc-visa' && r.amount.startsWith('-'))).toBe(true);
    expect(page.total_sum).toBe(sumDecimals(rows.map((r) => r.amount)));
    const back = await allPages(backend, { ...query, order: 'oldest' });
    expect(back.map((r) => r.id)).toEqual([...rows].reverse().map((r) => r.id));
  });

  it('filters by date range, amount magnitude and status', async () => {
    const backend = new FakeBackend({ accounts: DEMO_ACCOUNTS, transactionCount: 3_000 });
    const rows = await allPages(backend, { from: '2026-10-01', to: '2026-10-31', min: '50', max: '100', order: 'newest', limit: 200 });
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.booking_date >= '2026-10-01' && r.booking_date <= '2026-10-31').toBe(true);
      const abs = Number(r.amount.replace('-', ''));
      expect(abs >= 50 && abs <= 100).toBe(true);
    }
    const pending = await allPages(backend, { status: 'pending', order: 'newest', limit: 50 });
    expect(pending.length).toBeGreaterThan(0);
    expect(pending.every((r) => r.status === 'pending' && r.running_balance === null)).toBe(true);
  });

  it('running balances: each booked row is the next older one plus its amount, ending at the account balance', async () => {
    const backend = new FakeBackend({ accounts: DEMO_ACCOUNTS, transactionCount: 5_000 });
    const rows = await allPages(backend, { accounts: ['acc-giro'], status: 'booked', order: 'newest', limit: 500 });
    expect(rows[0]?.running_balance).toBe('2431.57');
    for (let i = 0; i + 1 < rows.length; i++) {
      const newer = rows[i] as TransactionRow;
      const older = rows[i + 1] as TransactionRow;
      expect(sumDecimals([older.running_balance ?? 'x', newer.amount])).toBe(newer.running_balance);
    }
  });

  it('searches by word prefix, ignoring case and umlauts', async () => {
    expect(matchesText('Zahnarztpraxis Dr. Überall', 'uberall')).toBe(true);
    expect(matchesText('Zahnarztpraxis Dr. Überall', 'ÜBER zahn')).toBe(true);
    expect(matchesText('Zahnarztpraxis Dr. Überall', 'arzt')).toBe(false);
    expect(matchesText('Straße', 'strasse')).toBe(true);
    const backend = new FakeBackend({ accounts: DEMO_ACCOUNTS, transactionCount: 200_000 });
    const page = await backend.transactions({ text: 'uberall', order: 'newest', limit: 50 });
    expect(page.total_count).toBeGreaterThan(0);
    expect(page.rows.length).toBe(Math.min(50, page.total_count));
    expect(page.rows.every((r) => r.counterparty_name === 'Zahnarztpraxis Dr. Überall')).toBe(true);
  });

  it('is deterministic, and the detail carries every field and the raw data', async () => {
    const a = new FakeBackend({ accounts: DEMO_ACCOUNTS, transactionCount: 1_000 });
    const b = new FakeBackend({ accounts: DEMO_ACCOUNTS, transactionCount: 1_000 });
    const pa = await a.transactions({ order: 'newest', limit: 20 });
    expect(await b.transactions({ order: 'newest', limit: 20 })).toEqual(pa);
    const row = pa.rows[5] as TransactionRow;
    const detail = await a.transaction(row.id);
    expect(detail).toMatchObject(row);
    expect(JSON.parse(detail.raw)).toMatchObject({ bankBookingDate: row.booking_date, purpose: row.purpose });
    await expect(a.transaction('tx-nope')).rejects.toMatchObject({ code: 'NotFound' });
    await expect(a.transactions({ order: 'newest', limit: 20, after: 'o:3' })).rejects.toMatchObject({ code: 'InvalidInput' });
  });

  it('monthly sums and the balance series agree with the bookings', () => {
    const ledger = new FakeLedger(DEMO_ACCOUNTS, { count: 4_000 });
    const sums = ledger.monthlySums('acc-giro');
    const rows = ledger.all({ accounts: ['acc-giro'], status: 'booked', order: 'oldest' });
    const nov = rows.filter((r) => r.booking_date.startsWith('2026-11'));
    const month = sums.find((m) => m.month === '2026-11');
    expect(month?.income).toBe(sumDecimals(['0.00', ...nov.filter((r) => !r.amount.startsWith('-')).map((r) => r.amount)]));
    expect(month?.spending).toBe(sumDecimals(['0.00', ...nov.filter((r) => r.amount.startsWith('-')).map((r) => r.amount.slice(1))]));
    const series = ledger.balanceSeries('acc-giro');
    expect(series[series.length - 1]).toEqual({ date: rows[rows.length - 1]?.booking_date, balance: '2431.57' });
    expect(series.map((p) => p.date)).toEqual([...new Set(rows.map((r) => r.booking_date))]);
  });
});

describe('fake transactions: text search paging', () => {
  it('pages a text search in both orders like the unsearched list', async () => {
    const backend = new FakeBackend({ accounts: DEMO_ACCOUNTS, transactionCount: 4_000 });
    const query = { text: 'rewe', order: 'newest' as const, limit: 23 };
    const rows = await allPages(backend, query);
    const plain = (await allPages(backend, { order: 'newest', limit: 500 })).filter((r) => r.counterparty_name === 'REWE Markt GmbH');
    expect(rows.map((r) => r.id)).toEqual(plain.map((r) => r.id));
    const back = await allPages(backend, { ...query, order: 'oldest' });
    expect(back.map((r) => r.id)).toEqual([...plain].reverse().map((r) => r.id));
  });
});
