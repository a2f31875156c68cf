import { describe, expect, it } from 'vitest';
import type { TransactionRow as CoreRow } from '../../bindings';
import { uiRow } from '../backend/coreTransactions';
import type { TransactionRow } from '../backend/types';
import { CSV_BOM, csvDecimal, csvField, toCsv, toJsonExport } from './csv';
// The rows and expected files the Rust core's export is tested with (crates/core/src/api/transactions.rs).
import fixture from './export-fixture/rows.json';
import expectedDe from './export-fixture/de.csv?raw';
import expectedEn from './export-fixture/en.csv?raw';

const row = (over: Partial<TransactionRow> = {}): TransactionRow => ({
  id: 'tx-1',
  account_id: 'acc-giro',
  booking_date: '2026-11-20',
  value_date: '2026-11-19',
  amount: '-1234.5',
  currency: 'EUR',
  counterparty_name: 'REWE Markt GmbH',
  counterparty_iban: 'DE89370400440532013000',
  purpose: 'Einkauf',
  kind: 'Kartenzahlung',
  status: 'booked',
  running_balance: '2431.57',
  ...over,
});

function lines(csv: string): string[] {
  expect(csv.startsWith(CSV_BOM)).toBe(true);
  expect(csv.endsWith('\r\n')).toBe(true);
  return csv.slice(1, -2).split('\r\n');
}

describe('CSV export format', () => {
  it('writes the same bytes as the Rust core for the shared fixture rows, in German and English', () => {
    const rows = (fixture.rows as CoreRow[]).map(uiRow);
    expect(expectedDe.startsWith(CSV_BOM)).toBe(true);
    expect(toCsv(rows, 'de', fixture.account_names)).toBe(expectedDe);
    expect(toCsv(rows, 'en', fixture.account_names)).toBe(expectedEn);
  });

  it('German: semicolons, decimal comma, ISO dates, German header and status, the balance after, the id last', () => {
    const [header, line, ...rest] = lines(toCsv([row()], 'de', { 'acc-giro': 'Girokonto' }));
    expect(rest).toEqual([]);
    expect(header).toBe(
      'Buchungstag;Wertstellung;Konto;Konto-ID;Betrag;Währung;Saldo danach;Status;Zahlungsbeteiligter;IBAN Zahlungsbeteiligter;Verwendungszweck;Buchungsart;ID',
    );
    expect(line).toBe(
      '2026-11-20;2026-11-19;Girokonto;acc-giro;-1234,50;EUR;2431,57;gebucht;REWE Markt GmbH;DE89370400440532013000;Einkauf;Kartenzahlung;tx-1',
    );
  });

  it('English: commas, decimal point, English header', () => {
    const [header, line] = lines(toCsv([row({ status: 'pending', running_balance: null })], 'en'));
    expect(header).toBe(
      'Booking date,Value date,Account,Account ID,Amount,Currency,Balance after,Status,Counterparty,Counterparty IBAN,Purpose,Kind,ID',
    );
    expect(line).toBe(
      '2026-11-20,2026-11-19,,acc-giro,-1234.50,EUR,,pending,REWE Markt GmbH,DE89370400440532013000,Einkauf,Kartenzahlung,tx-1',
    );
  });

  it('keeps amounts exact: at least two decimals, no rounding, no grouping, no float', () => {
    const [, de] = lines(toCsv([row({ amount: '9007199254740993.015' })], 'de'));
    expect(de).toContain(';9007199254740993,015;');
    const [, en] = lines(toCsv([row({ amount: '0.10' })], 'en'));
    expect(en).toContain(',0.10,');
    expect(csvDecimal('7', 'de')).toBe('7,00');
    expect(csvDecimal('-0.5', 'en')).toBe('-0.50');
  });

  it('quotes fields with the separator, quotes or line breaks, and only those', () => {
    expect(csvField('a;b', ';')).toBe('"a;b"');
    expect(csvField('a,b', ';')).toBe('a,b');
    expect(csvField('a,b', ',')).toBe('"a,b"');
    expect(csvField('Café "Zur Börse"', ',')).toBe('"Café ""Zur Börse"""');
    expect(csvField('line 1\nline 2', ';')).toBe('"line 1\nline 2"');
    expect(csvField('cr\r', ';')).toBe('"cr\r"');
    const [, line] = lines(toCsv([row({ purpose: 'Miete; Nebenkosten, "Nov"', counterparty_name: null })], 'de'));
    expect(line).toBe(
      '2026-11-20;2026-11-19;;acc-giro;-1234,50;EUR;2431,57;gebucht;;DE89370400440532013000;"Miete; Nebenkosten, ""Nov""";Kartenzahlung;tx-1',
    );
    // in English the comma forces quotes, the semicolon does not
    const [, en] = lines(toCsv([row({ purpose: 'a;b', kind: 'c,d' })], 'en'));
    expect(en).toContain(',a;b,"c,d",');
  });

  it('writes empty fields for absent values and only the header for no rows', () => {
    const [, line] = lines(
      toCsv([row({ value_date: null, counterparty_iban: null, purpose: null, kind: null, running_balance: null })], 'de'),
    );
    expect(line).toBe('2026-11-20;;;acc-giro;-1234,50;EUR;;gebucht;REWE Markt GmbH;;;;tx-1');
    expect(lines(toCsv([], 'en'))).toHaveLength(1);
  });

  it('JSON export is the rows as sent', () => {
    const rows = [row(), row({ id: 'tx-2', amount: '12.00' })];
    expect(JSON.parse(toJsonExport(rows))).toEqual(rows);
  });
});
