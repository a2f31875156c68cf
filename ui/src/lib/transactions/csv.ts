import type { TransactionRow } from '../backend/types';
import type { Locale } from '../i18n/types';

/**
 * The export file formats, shared with the Rust core (`export_transactions` must write exactly this):
 *
 * CSV: UTF-8 with a byte order mark (so spreadsheet programs read umlauts), lines end in CRLF, a
 * header row, then one line per transaction in the list's order.
 * - German (`de`): fields separated by `;`, amounts with a decimal comma ("-12,50").
 * - English (`en`): fields separated by `,`, amounts with a decimal point ("-12.50").
 * Amounts are the exact decimal strings (no rounding, no thousands separators); dates are ISO
 * (YYYY-MM-DD); an absent value is an empty field. A field containing the separator, a double quote,
 * CR or LF is wrapped in double quotes, with each double quote doubled (RFC 4180).
 *
 * JSON: an array of TransactionRow objects (the fields as the backend sends them), two-space indented.
 */

export const CSV_BOM = '\uFEFF';
export const CSV_EOL = '\r\n';

export const CSV_COLUMNS = [
  'booking_date',
  'value_date',
  'account_id',
  'counterparty_name',
  'counterparty_iban',
  'purpose',
  'kind',
  'amount',
  'currency',
  'status',
  'running_balance',
  'id',
] as const satisfies readonly (keyof TransactionRow)[];

export const CSV_HEADERS: Record<Locale, Record<(typeof CSV_COLUMNS)[number], string>> = {
  en: {
    booking_date: 'Booking date',
    value_date: 'Value date',
    account_id: 'Account',
    counterparty_name: 'Counterparty',
    counterparty_iban: 'Counterparty IBAN',
    purpose: 'Purpose',
    kind: 'Kind',
    amount: 'Amount',
    currency: 'Currency',
    status: 'Status',
    running_balance: 'Balance',
    id: 'ID',
  },
  de: {
    booking_date: 'Buchungstag',
    value_date: 'Valuta',
    account_id: 'Konto',
    counterparty_name: 'Empfänger/Zahler',
    counterparty_iban: 'IBAN Empfänger/Zahler',
    purpose: 'Verwendungszweck',
    kind: 'Buchungsart',
    amount: 'Betrag',
    currency: 'Währung',
    status: 'Status',
    running_balance: 'Saldo',
    id: 'ID',
  },
};

export const CSV_STATUS: Record<Locale, Record<TransactionRow['status'], string>> = {
  en: { booked: 'booked', pending: 'pending' },
  de: { booked: 'gebucht', pending: 'vorgemerkt' },
};

export function csvSeparator(locale: Locale): ';' | ',' {
  return locale === 'de' ? ';' : ',';
}

/** An exact decimal string in the locale's CSV notation: "-1234.5" → "-1234,5" in German. */
export function csvDecimal(value: string, locale: Locale): string {
  return locale === 'de' ? value.replace('.', ',') : value;
}

/** Quotes a field when it holds the separator, a double quote, CR or LF. */
export function csvField(value: string, separator: string): string {
  if (value.includes(separator) || /["\r\n]/.test(value)) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

export function csvLine(row: TransactionRow, locale: Locale): string {
  const sep = csvSeparator(locale);
  return CSV_COLUMNS.map((column) => {
    const value = row[column];
    if (value === null) return '';
    if (column === 'amount' || column === 'running_balance') return csvField(csvDecimal(value, locale), sep);
    if (column === 'status') return CSV_STATUS[locale][row.status];
    return csvField(value, sep);
  }).join(sep);
}

/** The whole CSV file for `rows` (BOM, header, CRLF after every line). */
export function toCsv(rows: readonly TransactionRow[], locale: Locale): string {
  const sep = csvSeparator(locale);
  const header = CSV_COLUMNS.map((c) => csvField(CSV_HEADERS[locale][c], sep)).join(sep);
  let out = CSV_BOM + header + CSV_EOL;
  for (const row of rows) out += csvLine(row, locale) + CSV_EOL;
  return out;
}

/** The JSON export: the rows exactly as the backend sends them. */
export function toJsonExport(rows: readonly TransactionRow[]): string {
  return JSON.stringify(rows, null, 2);
}
