import type { AccountSummary } from '../../bindings';
import { roundDecimal } from '../format/decimal';
import { kontorError } from './errors';
import type {
  BalancePoint,
  MonthlySums,
  TransactionDetail,
  TransactionFilter,
  TransactionPage,
  TransactionQuery,
  TransactionRow,
} from './types';

/**
 * Deterministic, generated transactions for the fake backend. Nothing is stored per row: row `i`
 * (0 = newest, `count - 1` = oldest, over all accounts) is computed from `i` alone, so a ledger of
 * 1,000,000 rows costs a few kilobytes (checkpoints every 1024 rows for running balances, cached
 * counts and sums per filter). Amounts are integers in cents here and leave as decimal strings.
 */

const DAY_MS = 86_400_000;
const CHECKPOINT = 1024;

/** A 32-bit integer hash of (i, salt): well mixed, stable across runs. */
function hash(i: number, salt: number): number {
  let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(salt + 0x27d4eb2f, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** `lo..hi` inclusive, picked by hash. */
function pick(i: number, salt: number, lo: number, hi: number): number {
  return lo + (hash(i, salt) % (hi - lo + 1));
}

export function centsToDecimal(cents: number): string {
  const negative = cents < 0;
  const abs = Math.abs(cents);
  const s = `${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
  return negative ? `-${s}` : s;
}

function decimalToCents(value: string): number | null {
  const rounded = roundDecimal(value, 2);
  return rounded === null ? null : Number(rounded.replace('.', ''));
}

const FOLD: Record<string, string> = { ä: 'a', ö: 'o', ü: 'u', ß: 'ss', é: 'e', è: 'e', à: 'a', ı: 'i', ç: 'c', ñ: 'n' };

/** Lowercase, umlauts and accents folded (ä → a, ß → ss), as FTS5's `remove_diacritics 2` does. */
export function foldText(text: string): string {
  const lower = text.toLowerCase();
  // fast path for the common letters; NFD only for what is left
  const quick = lower.replace(/[äöüßéèàıçñ]/g, (c) => FOLD[c] ?? c);
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\x7f]/.test(quick) ? quick.normalize('NFD').replace(/[\u0300-\u036f]/g, '') : quick;
}

function words(text: string): string[] {
  return text.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

/** Prefix search: every word of `query` starts some word of `haystack`. */
export function matchesText(haystack: string, query: string): boolean {
  return matchesFolded(foldText(haystack), words(foldText(query)));
}

function matchesFolded(folded: string, tokens: readonly string[]): boolean {
  if (tokens.length === 0) return true;
  // most rows fail this cheap check; only the rest are split into words
  if (!tokens.every((t) => folded.includes(t))) return false;
  const ws = words(folded);
  return tokens.every((t) => ws.some((w) => w.startsWith(t)));
}

const MONTHS_DE = ['Januar', 'Februar', 'März', 'April', 'Mai', 'Juni', 'Juli', 'August', 'September', 'Oktober', 'November', 'Dezember'];

interface Merchant {
  name: string;
  city: string;
  min: number;
  max: number;
}
const MERCHANTS: Merchant[] = [
  { name: 'REWE Markt GmbH', city: 'Köln', min: 300, max: 9_500 },
  { name: 'EDEKA Zentrale', city: 'Bonn', min: 250, max: 8_000 },
  { name: 'ALDI SÜD', city: 'Köln', min: 200, max: 6_000 },
  { name: 'dm-drogerie markt', city: 'Köln', min: 150, max: 4_500 },
  { name: 'Deutsche Bahn Fernverkehr', city: 'Frankfurt', min: 990, max: 14_900 },
  { name: 'Amazon EU S.à r.l.', city: 'Luxemburg', min: 599, max: 12_999 },
  { name: 'Lieferando.de', city: 'Berlin', min: 1_450, max: 4_900 },
  { name: 'Bäckerei Schäfer', city: 'Bonn', min: 180, max: 1_200 },
  { name: 'Café "Zur Börse"', city: 'Köln', min: 320, max: 2_400 },
  { name: 'Shell Station 4711', city: 'Hürth', min: 2_500, max: 9_000 },
];
const DEBITS = [
  { name: 'RheinEnergie AG', iban: 'DE33370501980001802057', purpose: 'Abschlag Strom Vertragskonto 4711-0815', cents: -8_700 },
  { name: 'Telekom Deutschland GmbH', iban: 'DE04300700100152101900', purpose: 'Festnetz/Internet Kd-Nr. 551234987', cents: -3_995 },
  { name: 'Allianz Versicherungs-AG', iban: 'DE65700800000700123400', purpose: 'Haftpflicht Beitrag Vers.-Nr. AS-8831', cents: -2_310 },
  { name: 'Spotify AB', iban: 'DE26100100100123456789', purpose: 'Spotify Premium Abo', cents: -1_099 },
];
const FRIENDS = [
  { name: 'Anna Schmidt', iban: 'DE02120300000000202051', purpose: 'Danke fürs Essen' },
  { name: 'Jörg Müller', iban: 'DE44500105175407324931', purpose: 'Anteil Ferienwohnung Ostsee' },
  { name: 'Özlem Yılmaz', iban: 'DE89370400440532013000', purpose: 'Konzertkarten' },
];

interface Totals {
  count: number;
  cents: number;
  /** The matching indices in order, kept for text searches (so paging does not scan again). */
  matches: number[] | null;
}

interface Core {
  account: number;
  cents: number;
  pending: boolean;
}

type Shape = Omit<TransactionRow, 'id' | 'account_id' | 'booking_date' | 'status' | 'running_balance' | 'currency' | 'amount'>;

export interface LedgerOptions {
  /** How many transactions in all (over all accounts). */
  count: number;
  /** The newest booking date (YYYY-MM-DD). */
  today?: string;
  /** The newest rows of checking and card accounts are pending (not yet booked). */
  pending?: number;
}

/** The first position in sorted `values` whose value is >= `x`. */
function lowerBound(values: readonly number[], x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] ?? 0) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class FakeLedger {
  readonly count: number;
  readonly spanDays: number;
  private readonly todayMs: number;
  private readonly pending: number;
  private readonly accounts: AccountSummary[];
  private readonly weights: number[];
  private readonly balances: number[];
  private readonly dates = new Map<number, string>();
  private checkpoints: Float64Array[] | null = null;
  private readonly totals = new Map<string, Totals>();
  private readonly monthly = new Map<number, MonthlySums[]>();
  private readonly series = new Map<number, BalancePoint[]>();

  constructor(accounts: AccountSummary[], options: LedgerOptions) {
    this.accounts = accounts;
    this.count = accounts.length === 0 ? 0 : Math.max(0, Math.floor(options.count));
    this.spanDays = Math.min(1826, Math.max(60, Math.ceil(this.count / 3)));
    const [y, m, d] = (options.today ?? '2026-11-21').split('-').map(Number);
    this.todayMs = Date.UTC(y ?? 2026, (m ?? 1) - 1, d ?? 1);
    this.pending = options.pending ?? 3;
    const weightOf = (a: AccountSummary) => (a.account_type === 'checking' ? 70 : a.account_type === 'credit_card' ? 20 : 10);
    let acc = 0;
    this.weights = accounts.map((a) => (acc += weightOf(a)));
    this.balances = accounts.map((a) => (a.balance_booked === null ? 0 : (decimalToCents(a.balance_booked) ?? 0)));
  }

  // --- rows from the index ---------------------------------------------------------------------

  dayOffset(i: number): number {
    return Math.floor((i * this.spanDays) / Math.max(1, this.count));
  }

  private dateOf(offset: number): string {
    let s = this.dates.get(offset);
    if (s === undefined) {
      s = new Date(this.todayMs - offset * DAY_MS).toISOString().slice(0, 10);
      this.dates.set(offset, s);
    }
    return s;
  }

  date(i: number): string {
    return this.dateOf(this.dayOffset(i));
  }

  private offsetOfDate(iso: string): number | null {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
    if (!m) return null;
    const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    return Math.round((this.todayMs - ms) / DAY_MS);
  }

  private accountOf(i: number): number {
    const total = this.weights[this.weights.length - 1] ?? 1;
    const r = hash(i, 1) % total;
    const index = this.weights.findIndex((w) => r < w);
    return index < 0 ? 0 : index;
  }

  private typeOf(account: number): AccountSummary['account_type'] {
    return this.accounts[account]?.account_type ?? 'checking';
  }

  /** Account, amount and status of row `i`: all a scan needs. */
  core(i: number): Core {
    const account = this.accountOf(i);
    const type = this.typeOf(account);
    const r = hash(i, 2) % 100;
    let cents: number;
    if (this.isRare(i)) cents = -pick(i, 3, 8_000, 42_000);
    else if (type === 'savings') cents = r < 55 ? pick(i, 3, 100, 500) * 100 : r < 85 ? pick(i, 3, 50, 2_000) : -pick(i, 3, 5, 20) * 10_000;
    else if (type === 'credit_card') cents = r < 6 ? pick(i, 3, 200, 800) * 100 : -this.merchantCents(i);
    else if (r < 4) cents = pick(i, 3, 170_000, 230_000); // about balances what goes out on average
    else if (r < 8) cents = pick(i, 3, 2_000, 30_000);
    else if (r < 13) cents = -95_000;
    else if (r < 29) cents = DEBITS[hash(i, 4) % DEBITS.length]?.cents ?? -1_000;
    else cents = -this.merchantCents(i);
    const pending = i < this.pending && type !== 'savings';
    return { account, cents, pending };
  }

  private merchantCents(i: number): number {
    const m = MERCHANTS[hash(i, 5) % MERCHANTS.length] as Merchant;
    return pick(i, 3, m.min, m.max);
  }

  /** A few rows with a rare counterparty, for search ("Überall" at ~1 in 50,000 rows, at least one). */
  private isRare(i: number): boolean {
    return i === Math.floor(this.count * 0.73) || hash(i, 9) % 50_000 === 0;
  }

  private shape(i: number, c: Core, date: string): Shape {
    const type = this.typeOf(c.account);
    const r = hash(i, 2) % 100;
    const month = MONTHS_DE[Number(date.slice(5, 7)) - 1] ?? '';
    const year = date.slice(0, 4);
    const ref = String(hash(i, 6) % 100_000_000).padStart(8, '0');
    if (this.isRare(i)) {
      return {
        value_date: date,
        counterparty_name: 'Zahnarztpraxis Dr. Überall',
        counterparty_iban: 'DE75512108001245126199',
        purpose: `Rechnung ${ref} Prophylaxe und Füllungstherapie, zahlbar ohne Abzug`,
        kind: 'Überweisung',
      };
    }
    if (type === 'savings') {
      if (r < 55) return { value_date: date, counterparty_name: 'Eigenes Girokonto', counterparty_iban: 'DE89370400440532013000', purpose: 'Sparrate', kind: 'Dauerauftrag' };
      if (r < 85) return { value_date: date, counterparty_name: null, counterparty_iban: null, purpose: `Zinsgutschrift ${month} ${year}`, kind: 'Abschluss' };
      return { value_date: date, counterparty_name: 'Eigenes Girokonto', counterparty_iban: 'DE89370400440532013000', purpose: 'Umbuchung auf Girokonto', kind: 'Umbuchung' };
    }
    if (type === 'credit_card' && r < 6) {
      return { value_date: date, counterparty_name: 'DKB AG', counterparty_iban: null, purpose: 'Ausgleich Kreditkartenabrechnung', kind: 'Gutschrift' };
    }
    if (type === 'checking' && r < 29) {
      if (r < 4) return { value_date: date, counterparty_name: 'Muster Software GmbH', counterparty_iban: 'DE91100000000123456789', purpose: `Gehalt ${month} ${year} Personalnr. 20417`, kind: 'Gehalt/Rente' };
      if (r < 8) {
        const f = FRIENDS[hash(i, 4) % FRIENDS.length] as (typeof FRIENDS)[number];
        return { value_date: date, counterparty_name: f.name, counterparty_iban: f.iban, purpose: f.purpose, kind: 'Überweisung' };
      }
      if (r < 13) return { value_date: date, counterparty_name: 'Wohnungsbau Köln eG', counterparty_iban: 'DE68370501980012345678', purpose: `Miete ${month} ${year} Whg. 3. OG links, Nebenkosten inklusive`, kind: 'Dauerauftrag' };
      const d = DEBITS[hash(i, 4) % DEBITS.length] as (typeof DEBITS)[number];
      return { value_date: date, counterparty_name: d.name, counterparty_iban: d.iban, purpose: `${d.purpose} ${month} ${year}`, kind: 'Lastschrift' };
    }
    const m = MERCHANTS[hash(i, 5) % MERCHANTS.length] as Merchant;
    const valueOffset = this.dayOffset(i) + (hash(i, 7) % 3);
    return {
      value_date: hash(i, 8) % 10 === 0 ? null : this.dateOf(valueOffset),
      counterparty_name: m.name,
      counterparty_iban: null,
      purpose: `${m.name.toUpperCase()}//${m.city}/DE ${this.dateOf(valueOffset)}T${String(8 + (hash(i, 7) % 12)).padStart(2, '0')}:${String(hash(i, 8) % 60).padStart(2, '0')} Karte 1 Kartenzahlung girocard Ref. ${ref}`,
      kind: 'Kartenzahlung',
    };
  }

  id(i: number): string {
    return `tx-${String(this.count - i).padStart(7, '0')}`;
  }

  indexOf(id: string): number | null {
    const m = /^tx-(\d+)$/.exec(id);
    if (!m) return null;
    const i = this.count - Number(m[1]);
    return i >= 0 && i < this.count ? i : null;
  }

  row(i: number): TransactionRow {
    const c = this.core(i);
    const date = this.date(i);
    const account = this.accounts[c.account] as AccountSummary;
    return {
      id: this.id(i),
      account_id: account.id,
      booking_date: date,
      amount: centsToDecimal(c.cents),
      currency: account.currency,
      status: c.pending ? 'pending' : 'booked',
      running_balance: c.pending ? null : centsToDecimal(this.balanceAfter(i, c.account)),
      ...this.shape(i, c, date),
      ...(c.pending ? { value_date: null } : {}),
    };
  }

  detail(i: number): TransactionDetail {
    const row = this.row(i);
    const raw = {
      id: 40_000_000 + (this.count - i),
      accountId: row.account_id,
      amount: Number(row.amount),
      currency: row.currency,
      bankBookingDate: row.booking_date,
      valueDate: row.value_date,
      counterpartName: row.counterparty_name,
      counterpartIban: row.counterparty_iban,
      purpose: row.purpose,
      type: row.kind,
      isPending: row.status === 'pending',
    };
    const matched = row.status === 'booked' && i < this.pending + 4 && row.kind === 'Kartenzahlung';
    return {
      ...row,
      raw: JSON.stringify(raw),
      pending_match: matched
        ? {
            rule: 'same_booking',
            pending_provider_id: `pending-${row.id}`,
            pending_date: row.booking_date,
            days_apart: 2,
            fields: ['amount', 'counterparty_name', 'purpose'],
          }
        : null,
    };
  }

  // --- balances -----------------------------------------------------------------------------------

  /** Cumulative booked cents per account over rows [0, k·1024), built once on first use. */
  private ensureCheckpoints(): Float64Array[] {
    if (this.checkpoints) return this.checkpoints;
    const n = this.accounts.length;
    const out: Float64Array[] = [new Float64Array(n)];
    const sums = new Float64Array(n);
    for (let i = 0; i < this.count; i++) {
      const c = this.core(i);
      if (!c.pending) sums[c.account] = (sums[c.account] ?? 0) + c.cents;
      if ((i + 1) % CHECKPOINT === 0) out.push(sums.slice());
    }
    this.checkpoints = out;
    return out;
  }

  /** Booked cents per account over rows [0, pos): where the last balance lookup ended (pages read in order). */
  private cursor: { pos: number; sums: Float64Array } | null = null;

  /** The account's booked balance right after row `i` (its own amount included). */
  balanceAfter(i: number, account: number): number {
    let cur = this.cursor;
    if (!cur || i < cur.pos || i - cur.pos > CHECKPOINT) {
      const cps = this.ensureCheckpoints();
      const k = Math.floor(i / CHECKPOINT);
      cur = { pos: k * CHECKPOINT, sums: (cps[k] ?? new Float64Array(this.accounts.length)).slice() };
      this.cursor = cur;
    }
    for (; cur.pos < i; cur.pos++) {
      const c = this.core(cur.pos);
      if (!c.pending) cur.sums[c.account] = (cur.sums[c.account] ?? 0) + c.cents;
    }
    return (this.balances[account] ?? 0) - (cur.sums[account] ?? 0);
  }

  // --- queries ------------------------------------------------------------------------------------

  private compile(filter: TransactionFilter): { lo: number; hi: number; test: (i: number, c: Core) => boolean } {
    const bad = (what: string) => kontorError('InvalidInput', `Not a valid ${what}.`);
    let lo = 0;
    let hi = this.count - 1;
    if (filter.to !== undefined) {
      const off = this.offsetOfDate(filter.to);
      if (off === null) throw bad('date');
      lo = Math.max(lo, this.firstIndexWithOffsetAtLeast(off));
    }
    if (filter.from !== undefined) {
      const off = this.offsetOfDate(filter.from);
      if (off === null) throw bad('date');
      hi = Math.min(hi, this.firstIndexWithOffsetAtLeast(off + 1) - 1);
    }
    const accounts = filter.accounts ? new Set(filter.accounts.map((id) => this.accounts.findIndex((a) => a.id === id))) : null;
    const min = filter.min !== undefined ? decimalToCents(filter.min) : null;
    const max = filter.max !== undefined ? decimalToCents(filter.max) : null;
    if (filter.min !== undefined && min === null) throw bad('amount');
    if (filter.max !== undefined && max === null) throw bad('amount');
    const tokens = filter.text?.trim() ? words(foldText(filter.text)) : null;
    const test = (i: number, c: Core): boolean => {
      if (accounts && !accounts.has(c.account)) return false;
      if (filter.direction === 'in' && c.cents <= 0) return false;
      if (filter.direction === 'out' && c.cents >= 0) return false;
      if (filter.status === 'pending' && !c.pending) return false;
      if (filter.status === 'booked' && c.pending) return false;
      const abs = Math.abs(c.cents);
      if (min !== null && abs < min) return false;
      if (max !== null && abs > max) return false;
      if (tokens !== null) {
        const s = this.shape(i, c, this.date(i));
        const hay = `${s.counterparty_name ?? ''} ${s.counterparty_iban ?? ''} ${s.purpose ?? ''} ${s.kind ?? ''}`;
        if (!matchesFolded(foldText(hay), tokens)) return false;
      }
      return true;
    };
    return { lo, hi, test };
  }

  private firstIndexWithOffsetAtLeast(offset: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.dayOffset(mid) >= offset) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  private totalsFor(filter: TransactionFilter, lo: number, hi: number, test: (i: number, c: Core) => boolean): Totals {
    const key = JSON.stringify([filter.accounts, filter.from, filter.to, filter.min, filter.max, filter.direction, filter.status, filter.text?.trim()]);
    let t = this.totals.get(key);
    if (!t) {
      const matches: number[] | null = filter.text?.trim() ? [] : null;
      t = { count: 0, cents: 0, matches };
      for (let i = lo; i <= hi; i++) {
        const c = this.core(i);
        if (test(i, c)) {
          t.count += 1;
          t.cents += c.cents;
          matches?.push(i);
        }
      }
      if (this.totals.size > 32) this.totals.clear();
      this.totals.set(key, t);
    }
    return t;
  }

  page(query: TransactionQuery): TransactionPage {
    if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > 1000) {
      throw kontorError('InvalidInput', 'The page size must be between 1 and 1000.');
    }
    const { lo, hi, test } = this.compile(query);
    const step = query.order === 'oldest' ? -1 : 1;
    let i = step === 1 ? lo : hi;
    if (query.after) {
      const m = /^([no]):(\d+)$/.exec(query.after);
      if (!m || (m[1] === 'n') !== (step === 1)) throw kontorError('InvalidInput', 'This cursor belongs to another query.');
      i = Number(m[2]) + step;
    }
    const totals = this.totalsFor(query, lo, hi, test);
    const rows: TransactionRow[] = [];
    let last = -1;
    let more = false;
    if (totals.matches) {
      // a text search: walk the cached matches from the cursor
      const m = totals.matches;
      let k = lowerBound(m, i);
      if (step === -1 && m[k] !== i) k -= 1;
      for (; k >= 0 && k < m.length; k += step) {
        if (rows.length === query.limit) {
          more = true;
          break;
        }
        last = m[k] as number;
        rows.push(this.row(last));
      }
      i = hi + 1; // skip the scan below
    }
    for (; i >= lo && i <= hi; i += step) {
      if (!test(i, this.core(i))) continue;
      if (rows.length === query.limit) {
        more = true;
        break;
      }
      rows.push(this.row(i));
      last = i;
    }
    return {
      rows,
      next_cursor: more ? `${step === 1 ? 'n' : 'o'}:${last}` : null,
      total_count: totals.count,
      total_sum: centsToDecimal(totals.cents),
    };
  }

  /** Every matching row in order (for exports). */
  all(query: TransactionFilter & { order: TransactionQuery['order'] }): TransactionRow[] {
    const { lo, hi, test } = this.compile(query);
    const out: TransactionRow[] = [];
    if (query.order === 'oldest') {
      for (let i = hi; i >= lo; i--) if (test(i, this.core(i))) out.push(this.row(i));
    } else {
      for (let i = lo; i <= hi; i++) if (test(i, this.core(i))) out.push(this.row(i));
    }
    return out;
  }

  accountIndex(id: string): number {
    const index = this.accounts.findIndex((a) => a.id === id);
    if (index < 0) throw kontorError('NotFound', 'This account does not exist.');
    return index;
  }

  monthlySums(accountId: string): MonthlySums[] {
    const a = this.accountIndex(accountId);
    const cached = this.monthly.get(a);
    if (cached) return structuredClone(cached);
    const byMonth = new Map<string, { income: number; spending: number }>();
    for (let i = 0; i < this.count; i++) {
      const c = this.core(i);
      if (c.account !== a || c.pending) continue;
      const month = this.date(i).slice(0, 7);
      const m = byMonth.get(month) ?? { income: 0, spending: 0 };
      if (c.cents > 0) m.income += c.cents;
      else m.spending -= c.cents;
      byMonth.set(month, m);
    }
    const out = [...byMonth.entries()]
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([month, m]) => ({ month, income: centsToDecimal(m.income), spending: centsToDecimal(m.spending) }));
    this.monthly.set(a, out);
    return structuredClone(out);
  }

  balanceSeries(accountId: string): BalancePoint[] {
    const a = this.accountIndex(accountId);
    const cached = this.series.get(a);
    if (cached) return structuredClone(cached);
    const out: BalancePoint[] = [];
    let running = this.balances[a] ?? 0;
    let lastDate = '';
    for (let i = 0; i < this.count; i++) {
      const c = this.core(i);
      if (c.account !== a || c.pending) continue;
      const date = this.date(i);
      if (date !== lastDate) {
        out.push({ date, balance: centsToDecimal(running) });
        lastDate = date;
      }
      running -= c.cents;
    }
    out.reverse();
    this.series.set(a, out);
    return structuredClone(out);
  }
}
