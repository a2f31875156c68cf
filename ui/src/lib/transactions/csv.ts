import type { TransactionRow } from '../backend/types';
import type { Locale } from '../i18n/types';

/**
 * The export file formats. The desktop app's export is written by the Rust core (`export_transactions`,
 * documented in docs/cli.md, "export"); this module writes exactly the same bytes for the browser preview and the
 * fake backend. Both are checked against the same rows and expected files in ./export-fixture/.
 *
 * CSV: UTF-8 with a byte order mark (so spreadsheet programs read umlauts), lines end in CRLF, a
 * header row in the export's language, then one line per transaction in the list's order.
 * - German (`de`): fields separated by `;`, amounts with a decimal comma ("-12,50").
 * - English (`en`): fields separated by `,`, amounts with a decimal point ("-12.50").
 * Columns: booking date, value date, account name, account id, amount, currency, status, counterparty,
 * counterparty IBAN, purpose, kind, transaction id. Amounts are exact, with at least two decimals
 * ("7" → "7.00", "0.125" stays), no thousands separators; dates are ISO (YYYY-MM-DD); an absent value
 * is an empty field. A field containing the separator, a double quote, CR or LF is wrapped in double
 * quotes, with each double quote doubled (RFC 4180).
 *
 * JSON: an array of TransactionRow objects (the fields as the backend sends them), two-space indented.
 */

export const CSV_BOM = '\uFEFF';
export const CSV_EOL = '\r\n';

type Column = (row: TransactionRow, locale: Locale, accountName: string | undefined) => string | null;

/** The columns in file order: header in English and German, and the field. */
const CSV_COLUMNS: readonly { en: string; de: string; field: Column }[] = [
  { en: 'Booking date', de: 'Buchungstag', field: (r) => r.booking_date },
  { en: 'Value date', de: 'Wertstellung', field: (r) => r.value_date },
  { en: 'Account', de: 'Konto', field: (_r, _l, name) => name ?? null },
  { en: 'Account ID', de: 'Konto-ID', field: (r) => r.account_id },
  { en: 'Amount', de: 'Betrag', field: (r, l) => csvDecimal(r.amount, l) },
  { en: 'Currency', de: 'Währung', field: (r) => r.currency },
  { en: 'Balance after', de: 'Saldo danach', field: (r, l) => (r.running_balance === null ? null : csvDecimal(r.running_balance, l)) },
  { en: 'Status', de: 'Status', field: (r, l) => CSV_STATUS[l][r.status] },
  { en: 'Counterparty', de: 'Zahlungsbeteiligter', field: (r) => r.counterparty_name },
  { en: 'Counterparty IBAN', de: 'IBAN Zahlungsbeteiligter', field: (r) => r.counterparty_iban },
  { en: 'Purpose', de: 'Verwendungszweck', field: (r) => r.purpose },
  { en: 'Kind', de: 'Buchungsart', field: (r) => r.kind },
  { en: 'ID', de: 'ID', field: (r) => r.id },
];

export const CSV_STATUS: Record<Locale, Record<TransactionRow['status'], string>> = {
  en: { booked: 'booked', pending: 'pending' },
  de: { booked: 'gebucht', pending: 'vorgemerkt' },
};

export function csvSeparator(locale: Locale): ';' | ',' {
  return locale === 'de' ? ';' : ',';
}

/**
 * An exact decimal string in the locale's CSV notation with at least two decimals, never rounded:
 * "-1234.5" → "-1234,50" in German, "7" → "7.00", "0.125" → "0.125".
 */
export function csvDecimal(value: string, locale: Locale): string {
  const match = /^(-?\d+)(?:\.(\d*))?$/.exec(value);
  const text = match ? `${match[1]}.${(match[2] ?? '').padEnd(2, '0')}` : value;
  return locale === 'de' ? text.replace('.', ',') : text;
}

/** Quotes a field when it holds the separator, a double quote, CR or LF. */
export function csvField(value: string, separator: string): string {
  if (value.includes(separator) || /["\r\n]/.test(value)) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

export function csvLine(row: TransactionRow, locale: Locale, accountName?: string): string {
  const sep = csvSeparator(locale);
  return CSV_COLUMNS.map((column) => csvField(column.field(row, locale, accountName) ?? '', sep)).join(sep);
}

/** The whole CSV file for `rows` (BOM, header, CRLF after every line); `accountNames` by account id. */
export function toCsv(
  rows: readonly TransactionRow[],
  locale: Locale,
  accountNames: Readonly<Record<string, string>> = {},
): string {
  const sep = csvSeparator(locale);
  const header = CSV_COLUMNS.map((c) => csvField(c[locale], sep)).join(sep);
  let out = CSV_BOM + header + CSV_EOL;
  for (const row of rows) out += csvLine(row, locale, accountNames[row.account_id]) + CSV_EOL;
  return out;
}

/** The JSON export: the rows exactly as the backend sends them. */
export function toJsonExport(rows: readonly TransactionRow[]): string {
  return JSON.stringify(rows, null, 2);
}
