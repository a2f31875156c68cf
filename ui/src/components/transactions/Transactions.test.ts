import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import App from '../../App.svelte';
import { FakeBackend, type FakeState } from '../../lib/backend/fake';
import { DEMO_ACCOUNTS, scenario } from '../../lib/backend/fixtures';
import type { AccountSummary, PendingMatch } from '../../bindings';
import type { TransactionFilter, TransactionQuery } from '../../lib/backend/types';
import { sumDecimals } from '../../lib/format/decimal';
import { formatMoney } from '../../lib/format/money';
import { de } from '../../lib/i18n/de';
import { en } from '../../lib/i18n/en';
import { createI18n } from '../../lib/i18n';
import type { Locale } from '../../lib/i18n/types';
import { csvLine } from '../../lib/transactions/csv';

const plain = (s: string | null | undefined) => (s ?? '').replace(/[\u00a0\u202f]/g, ' ');

async function openTransactions(count = 600, locale: Locale = 'en', state: Partial<FakeState> = {}) {
  const backend = new FakeBackend({ ...scenario('accounts'), transactionCount: count, ...state });
  const spy = vi.spyOn(backend, 'transactions');
  const user = userEvent.setup();
  const intl = locale === 'de' ? 'de-DE' : 'en-GB';
  render(App, { props: { backend, locale, intlLocale: intl } });
  await user.click(await screen.findByTestId('nav-transactions'));
  await screen.findAllByTestId('tx-row');
  const lastQuery = () => spy.mock.lastCall?.[0] as TransactionQuery;
  return { backend, user, intl, lastQuery };
}

/** What the summary must say for a filter, computed from the fake's rows independently of the UI. */
function expectedSummary(backend: FakeBackend, filter: TransactionFilter, locale: Locale = 'en') {
  const rows = backend.ledger().all({ ...filter, order: 'newest' });
  const intl = locale === 'de' ? 'de-DE' : 'en-GB';
  const sum = formatMoney(sumDecimals(rows.map((r) => r.amount)), 'EUR', intl);
  const t = locale === 'de' ? de : en;
  return { count: rows.length, text: plain(t.transactions.summary(rows.length, new Intl.NumberFormat(intl).format(rows.length), sum)) };
}

async function summaryIs(text: string) {
  await waitFor(() => expect(plain(screen.getByTestId('tx-count').textContent)).toBe(text));
}

beforeEach(() => {
  // "today" for the period presets; the fake's newest booking is 21 Nov 2026
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(2026, 10, 21, 12, 0));
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Transactions screen', () => {
  it('lists the bookings with date headers, pending marked, and the count and exact sum', async () => {
    const { backend } = await openTransactions();
    await summaryIs(expectedSummary(backend, {}).text);
    expect(screen.getAllByTestId('tx-date-header').length).toBeGreaterThan(0);
    const rows = screen.getAllByTestId('tx-row');
    const first = rows[0] as HTMLElement;
    expect(first).toHaveAttribute('data-id', backend.ledger().row(0).id);
    expect(first).toHaveClass('pending');
    expect(within(first).getByTestId('tx-pending')).toHaveTextContent(en.transactions.pending);
    const booked = rows.find((r) => !r.classList.contains('pending')) as HTMLElement;
    expect(within(booked).queryByTestId('tx-pending')).toBeNull();
    expect(booked.textContent).toMatch(/Balance/);
    const amount = within(booked).getByTestId('tx-amount');
    expect(amount.className).toMatch(/negative|positive/);
  });

  it('renders a window of a million rows, pages by keyset on scroll, and End jumps to the oldest', async () => {
    const { backend, lastQuery } = await openTransactions(1_000_000);
    const all = backend.ledger().page({ order: 'newest', limit: 1 });
    await summaryIs(`1,000,000 transactions · sum ${plain(formatMoney(all.total_sum, 'EUR', 'en-GB'))}`);
    const list = screen.getByTestId('tx-list');
    expect(screen.getAllByTestId('tx-row').length).toBeLessThan(40);
    expect(lastQuery()).toMatchObject({ order: 'newest', after: null, limit: 200 });

    // scroll near the end of the first page: the next one is fetched with its cursor
    Object.defineProperty(list, 'scrollTop', { configurable: true, writable: true, value: 190 * 64 });
    await fireEvent.scroll(list);
    await waitFor(() => expect(lastQuery().after).toBeTruthy());
    await waitFor(() => expect(Number(screen.getAllByTestId('tx-row').at(-1)?.dataset.index)).toBeGreaterThan(195));
    expect(screen.getAllByTestId('tx-row').length).toBeLessThan(40);

    expect(screen.getByTestId('tx-subtitle')).toHaveTextContent(en.transactions.subtitle.newest);
    list.focus();
    await fireEvent.keyDown(list, { key: 'End' });
    await waitFor(() => expect(list).toHaveAttribute('data-order', 'oldest'));
    await waitFor(() => expect(screen.getAllByTestId('tx-row')[0]).toHaveAttribute('data-id', 'tx-0000001'));
    expect(lastQuery()).toMatchObject({ order: 'oldest', after: null });
    expect(screen.getByTestId('tx-subtitle')).toHaveTextContent(en.transactions.subtitle.oldest);
    await fireEvent.keyDown(list, { key: 'Home' });
    await waitFor(() => expect(screen.getAllByTestId('tx-row')[0]).toHaveAttribute('data-id', backend.ledger().id(0)));
    expect(screen.getByTestId('tx-subtitle')).toHaveTextContent(en.transactions.subtitle.newest);
  });

  it('says under the title which way the list is sorted, also when the order chip changes it (German)', async () => {
    const { user } = await openTransactions(300, 'de');
    const subtitle = screen.getByTestId('tx-subtitle');
    expect(subtitle).toHaveTextContent('Alle Buchungen Ihrer Konten, die neuesten zuerst.');
    await user.selectOptions(screen.getByTestId('chip-order'), 'oldest');
    await waitFor(() => expect(subtitle).toHaveTextContent('Alle Buchungen Ihrer Konten, die ältesten zuerst.'));
    expect(subtitle.textContent).not.toMatch(/neuesten/);
  });

  it('filters by account and last month, and the count and sum follow; the search finds a rare word', async () => {
    const { backend, user, lastQuery } = await openTransactions(2_400);
    await user.selectOptions(screen.getByTestId('chip-account'), 'acc-visa');
    await user.selectOptions(screen.getByTestId('chip-period'), 'last-month');
    const filter = { accounts: ['acc-visa'], from: '2026-10-01', to: '2026-10-31' };
    const want = expectedSummary(backend, filter);
    expect(want.count).toBeGreaterThan(5);
    await summaryIs(want.text);
    expect(lastQuery()).toEqual({ ...filter, order: 'newest', after: null, limit: 200 });

    await user.selectOptions(screen.getByTestId('chip-direction'), 'in');
    await user.type(screen.getByTestId('chip-min'), '1.000');
    await summaryIs(expectedSummary(backend, { ...filter, direction: 'in', min: '1000' }).text);
    await user.click(screen.getByTestId('chip-clear'));
    await summaryIs(expectedSummary(backend, {}).text);

    await user.type(screen.getByTestId('tx-search'), 'Uberall');
    await summaryIs(expectedSummary(backend, { text: 'Uberall' }).text);
    expect(lastQuery().text).toBe('Uberall');
    for (const row of screen.getAllByTestId('tx-row')) expect(row).toHaveTextContent('Zahnarztpraxis Dr. Überall');
    // typed quickly, searched once the typing paused (debounced), not per letter
    expect(backend.calls.filter((c) => c === 'transactions').length).toBeLessThan(12);
  });

  it('leaves hidden accounts and a second account with an IBAN already held out of the list and its account chip', async () => {
    const copy = { ...(DEMO_ACCOUNTS[0] as AccountSummary), id: 'acc-giro-copy', connection_id: 'con-dkb', name: 'Giro (imported once)' };
    const { backend } = await openTransactions(1_200, 'en', {
      accounts: [...DEMO_ACCOUNTS, copy],
      hidden: ['acc-tagesgeld'],
    });
    const counted = ['acc-giro', 'acc-visa'];
    const options = [...(screen.getByTestId('chip-account') as HTMLSelectElement).options].map((o) => o.value);
    expect(options.filter(Boolean).sort()).toEqual(counted);
    await summaryIs(expectedSummary(backend, { accounts: counted }).text);
    const everything = expectedSummary(backend, {});
    expect(everything.count).toBeGreaterThan(expectedSummary(backend, { accounts: counted }).count);
    const shown = screen.getAllByTestId('tx-row').map((r) => backend.ledger().row(backend.ledger().indexOf(r.dataset.id ?? '') ?? -1).account_id);
    expect(shown.length).toBeGreaterThan(5);
    expect(shown.filter((account) => !counted.includes(account))).toEqual([]);
  });

  it('takes a custom range typed as German dates, whatever the WebView locale, and shows it the same way', async () => {
    const { backend, user, lastQuery } = await openTransactions(2_400, 'de');
    await user.selectOptions(screen.getByTestId('chip-period'), 'custom');
    const from = screen.getByTestId('chip-from') as HTMLInputElement;
    const to = screen.getByTestId('chip-to') as HTMLInputElement;
    expect(from.type).toBe('text');
    expect(from).toHaveAttribute('placeholder', 'TT.MM.JJJJ');
    await user.type(from, '1.10.2026');
    await user.type(to, '31.10.26');
    await user.tab();
    const filter = { from: '2026-10-01', to: '2026-10-31' };
    await summaryIs(expectedSummary(backend, filter, 'de').text);
    expect(lastQuery()).toMatchObject(filter);
    expect(from.value).toBe('01.10.2026'); // written out once the field is left
    expect(to.value).toBe('31.10.2026');
    expect(to).toHaveAttribute('aria-invalid', 'false');

    // a date that does not exist is marked and sets no bound
    await user.clear(to);
    await user.type(to, '31.02.2026');
    expect(to).toHaveAttribute('aria-invalid', 'true');
    await summaryIs(expectedSummary(backend, { from: '2026-10-01' }, 'de').text);
    await user.click(screen.getByTestId('chip-clear'));
    await summaryIs(expectedSummary(backend, {}, 'de').text);
  });

  it('keyboard: / and Ctrl+F focus the search, arrows select, Enter opens every detail, Esc closes', async () => {
    const { backend, user } = await openTransactions();
    await user.keyboard('/');
    expect(screen.getByTestId('tx-search')).toHaveFocus();
    const list = screen.getByTestId('tx-list');
    list.focus();
    await user.keyboard('{Control>}f{/Control}');
    expect(screen.getByTestId('tx-search')).toHaveFocus();

    list.focus();
    await user.keyboard('{ArrowDown}{ArrowDown}{ArrowDown}{ArrowDown}{ArrowUp}');
    const rows = screen.getAllByTestId('tx-row');
    const third = rows[2] as HTMLElement;
    expect(list).toHaveAttribute('aria-activedescendant', third.id);
    expect(third).toHaveAttribute('aria-selected', 'true');
    expect(rows.filter((r) => r.getAttribute('aria-selected') === 'true')).toHaveLength(1);

    await user.keyboard('{Enter}');
    const pane = await screen.findByTestId('tx-detail');
    const detail = await backend.transaction(third.dataset.id ?? '');
    await waitFor(() => expect(within(pane).getByTestId('tx-raw').textContent).toContain('"bankBookingDate"'));
    expect(pane).toHaveTextContent(detail.id);
    if (detail.purpose) expect(pane).toHaveTextContent(detail.purpose);
    for (const label of [en.transactions.detail.bookingDate, en.transactions.detail.valueDate, en.transactions.detail.kind, en.transactions.detail.balance]) {
      expect(within(pane).getByText(label)).toBeInTheDocument();
    }
    const write = vi.spyOn(navigator.clipboard, 'writeText');
    await user.click(within(pane).getByRole('button', { name: en.transactions.detail.copy(en.transactions.detail.raw) }));
    expect(write).toHaveBeenCalledWith(detail.raw);

    // the pane follows the selection
    list.focus();
    await user.keyboard('{ArrowDown}');
    const fourth = screen.getAllByTestId('tx-row')[3] as HTMLElement;
    await waitFor(() => expect(within(screen.getByTestId('tx-detail')).getByText(fourth.dataset.id ?? '')).toBeInTheDocument());

    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByTestId('tx-detail')).toBeNull());
    expect(list).toHaveFocus();
  });

  it('says in the details why a booked row took over a pending one', async () => {
    const { backend, user } = await openTransactions(600);
    const rows = screen.getAllByTestId('tx-row');
    let index = -1;
    let match: PendingMatch | null = null;
    for (const [i, row] of rows.entries()) {
      match = (await backend.transaction(row.dataset.id ?? '')).pending_match;
      if (match) {
        index = i;
        break;
      }
    }
    expect(match, 'the fake ledger has a matched row among the first rows').not.toBeNull();
    if (!match) return;
    const list = screen.getByTestId('tx-list');
    list.focus();
    await user.keyboard('{ArrowDown}'.repeat(index + 1) + '{Enter}');
    const pane = await screen.findByTestId('tx-detail');
    const said = en.transactions.detail.pendingMatch(match, createI18n('en', 'en-GB').date(match.pending_date));
    await waitFor(() => expect(within(pane).getByTestId('tx-detail-match')).toHaveTextContent(said));
    expect(within(pane).getByText(en.transactions.detail.matchReason)).toBeInTheDocument();
  });

  it('exports the current filter as CSV in the UI language', async () => {
    const { backend, user } = await openTransactions(900, 'de');
    await user.selectOptions(screen.getByTestId('chip-account'), 'acc-tagesgeld');
    await summaryIs(expectedSummary(backend, { accounts: ['acc-tagesgeld'] }, 'de').text);
    await user.click(screen.getByTestId('export-csv'));
    expect(await screen.findByTestId('export-done')).toHaveTextContent(de.transactions.exported('/home/you/Documents/kontor-transactions.csv'));
    const file = backend.state.exports[0];
    expect(file).toMatchObject({ format: 'csv', locale: 'de' });
    const lines = (file?.content ?? '').split('\r\n').filter(Boolean);
    const rows = backend.ledger().all({ accounts: ['acc-tagesgeld'], order: 'newest' });
    expect(lines).toHaveLength(rows.length + 1);
    expect(lines[1]).toBe(csvLine(rows[0] as never, 'de', 'Tagesgeld'));
    expect(lines[1]).toContain(';acc-tagesgeld;');
    // the first row exported is the first row listed
    expect(screen.getAllByTestId('tx-row')[0]).toHaveAttribute('data-id', rows[0]?.id);

    backend.state.exportPath = null; // the user cancels the save dialog
    await user.click(screen.getByTestId('export-json'));
    await waitFor(() => expect(screen.queryByTestId('export-done')).toBeNull());
    expect(backend.state.exports).toHaveLength(1);
  });

  it('speaks German', async () => {
    const { backend } = await openTransactions(300, 'de');
    expect(screen.getByTestId('nav-transactions')).toHaveTextContent('Umsätze');
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent(de.transactions.title);
    expect(screen.getByTestId('tx-search')).toHaveAttribute('placeholder', de.transactions.searchPlaceholder);
    expect(screen.getByRole('listbox', { name: de.transactions.listLabel })).toBeInTheDocument();
    expect(screen.getByText(de.transactions.period)).toBeInTheDocument();
    const want = expectedSummary(backend, {}, 'de');
    await summaryIs(want.text);
    expect(want.text).toMatch(/^300 Umsätze · Summe -?[\d.]+,\d\d €$/);
    expect(screen.getAllByTestId('tx-row')[0]?.textContent).toContain(de.transactions.pending);
    expect(de.transactions.title).not.toBe(en.transactions.title);
  });
});

describe('Account page', () => {
  it('opens from an account row: balance chart, monthly bars and the account\'s transactions', async () => {
    const backend = new FakeBackend({ ...scenario('accounts'), transactionCount: 3_000 });
    const spy = vi.spyOn(backend, 'transactions');
    const user = userEvent.setup();
    render(App, { props: { backend, locale: 'en', intlLocale: 'en-GB' } });
    const row = (await screen.findAllByTestId('account-row'))[0] as HTMLElement;
    await user.click(within(row).getByTestId('open-account'));
    const page = await screen.findByTestId('account-page');
    expect(within(page).getByRole('heading', { level: 1 })).toHaveTextContent('Girokonto');

    const series = backend.ledger().balanceSeries('acc-giro');
    const line = await within(page).findByTestId('balance-line');
    const d = line.getAttribute('d') ?? '';
    expect(d.startsWith('M')).toBe(true);
    expect(d.split('L')).toHaveLength(series.length);
    const chart = within(page).getByRole('img', { name: /^Balance from/ });
    expect(plain(chart.getAttribute('aria-label'))).toContain('now €2,431.57');

    const sums = backend.ledger().monthlySums('acc-giro');
    const bars = within(page).getAllByTestId('month-bar');
    expect(bars).toHaveLength(Math.min(12, sums.length));
    const lastMonth = sums[sums.length - 1];
    expect(plain(bars.at(-1)?.getAttribute('aria-label'))).toContain(`income ${plain(formatMoney(lastMonth?.income ?? '', 'EUR', 'en-GB'))}`);

    await waitFor(() => expect(spy.mock.lastCall?.[0]).toMatchObject({ accounts: ['acc-giro'] }));
    expect(within(page).queryByTestId('chip-account')).toBeNull();
    await summaryIs(expectedSummary(backend, { accounts: ['acc-giro'] }).text);
  });
});
