/**
 * The UI's transaction types ↔ the core's (`bindings.ts`): the Tauri backend sends the core's query and
 * turns its answers into what the screens use. Kept pure, so the mapping is tested without a window.
 *
 * - Amount bounds are sizes (`amounts_as_magnitudes`), `in`/`out` the core's `incoming`/`outgoing`.
 * - The core sends the filtered set's count and sum with the first page only (later pages share the set);
 *   `PageTotals` carries them over to the following pages of the same list.
 * - Ids are numbers in the core and strings in the UI.
 */
import type {
  MonthlyFlow,
  TransactionDetail as CoreDetail,
  TransactionPage as CorePage,
  TransactionQuery as CoreQuery,
  TransactionRow as CoreRow,
} from '../../bindings';
import { sumDecimals } from '../format/decimal';
import type { MonthlySums, TransactionDetail, TransactionFilter, TransactionPage, TransactionQuery, TransactionRow } from './types';

export function coreQuery(query: TransactionFilter & { order?: TransactionQuery['order']; after?: string | null; limit?: number }): CoreQuery {
  const core: CoreQuery = {};
  if (query.accounts && query.accounts.length > 0) core.accounts = [...query.accounts];
  if (query.from) core.from = query.from;
  if (query.to) core.to = query.to;
  if (query.min) core.min_amount = query.min;
  if (query.max) core.max_amount = query.max;
  if (query.min || query.max) core.amounts_as_magnitudes = true;
  if (query.direction) core.direction = query.direction === 'in' ? 'incoming' : 'outgoing';
  if (query.status) core.status = query.status;
  if (query.text && query.text.trim() !== '') core.text = query.text;
  if (query.order === 'oldest') core.oldest_first = true;
  if (query.after) core.after = query.after;
  if (query.limit !== undefined) core.limit = query.limit;
  return core;
}

export function uiRow(row: CoreRow): TransactionRow {
  return {
    id: String(row.id),
    account_id: row.account_id,
    booking_date: row.booking_date,
    value_date: row.value_date,
    amount: row.amount,
    currency: row.currency,
    counterparty_name: row.counterparty_name,
    counterparty_iban: row.counterparty_iban,
    purpose: row.purpose,
    kind: row.kind,
    status: row.status,
    running_balance: row.running_balance,
  };
}

/** Remembers the first page's totals of a list for its later pages. */
export class PageTotals {
  private last: { key: string; count: number; sum: string } | null = null;

  page(query: TransactionQuery, page: CorePage): TransactionPage {
    const { after: _after, limit: _limit, ...filter } = query;
    const key = JSON.stringify(filter);
    if (page.totals) {
      this.last = {
        key,
        count: page.totals.reduce((n, t) => n + t.count, 0),
        sum: sumDecimals(page.totals.map((t) => t.sum)),
      };
    }
    const totals = this.last?.key === key ? this.last : { count: 0, sum: '0' };
    return {
      rows: page.transactions.map(uiRow),
      next_cursor: page.next ?? null,
      total_count: totals.count,
      total_sum: totals.sum,
    };
  }
}

export function uiDetail(detail: CoreDetail): TransactionDetail {
  return {
    ...uiRow({ ...detail }),
    raw: detail.raw ?? '',
    pending_match: detail.pending_match,
  };
}

/** Booked income and spending per month, oldest first; spending as a size. */
export function uiMonthlySums(flows: MonthlyFlow[]): MonthlySums[] {
  const byMonth = new Map<string, { income: string[]; spending: string[] }>();
  for (const flow of flows) {
    const month = byMonth.get(flow.month) ?? { income: [], spending: [] };
    month.income.push(flow.income);
    month.spending.push(flow.spending.replace(/^-/, ''));
    byMonth.set(flow.month, month);
  }
  return [...byMonth.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([month, sums]) => ({ month, income: sumDecimals(sums.income), spending: sumDecimals(sums.spending) }));
}
