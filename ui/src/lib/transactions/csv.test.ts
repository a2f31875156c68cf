import { describe, expect, it } from 'vitest';
import type { TransactionRow } from '../backend/types';
import { CSV_BOM, csvField, toCsv, toJsonExport } from './csv';

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
  it('German: semicolons, decimal comma, ISO dates, German header and status', () => {
    const [header, line, ...rest] = lines(toCsv([row()], 'de'));
    expect(rest).toEqual([]);
    expect(header).toBe(
      'Buchungstag;Valuta;Konto;Empfänger/Zahler;IBAN Empfänger/Zahler;Verwendungszweck;Buchungsart;Betrag;Währung;Status;Saldo;ID',
    );
    expect(line).toBe(
      '2026-11-20;2026-11-19;acc-giro;REWE Markt GmbH;DE89370400440532013000;Einkauf;Kartenzahlung;-1234,5;EUR;gebucht;2431,57;tx-1',
    );
  });

  it('English: commas, decimal point, English header', () => {
    const [header, line] = lines(toCsv([row({ status: 'pending', running_balance: null })], 'en'));
    expect(header).toBe(
      'Booking date,Value date,Account,Counterparty,Counterparty IBAN,Purpose,Kind,Amount,Currency,Status,Balance,ID',
    );
    expect(line).toBe('2026-11-20,2026-11-19,acc-giro,REWE Markt GmbH,DE89370400440532013000,Einkauf,Kartenzahlung,-1234.5,EUR,pending,,tx-1');
  });

  it('keeps amounts exact: no rounding, no grouping, no float', () => {
    const [, de] = lines(toCsv([row({ amount: '9007199254740993.015' })], 'de'));
    expect(de).toContain(';9007199254740993,015;');
    const [, en] = lines(toCsv([row({ amount: '0.10' })], 'en'));
    expect(en).toContain(',0.10,');
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
      '2026-11-20;2026-11-19;acc-giro;;DE89370400440532013000;"Miete; Nebenkosten, ""Nov""";Kartenzahlung;-1234,5;EUR;gebucht;2431,57;tx-1',
    );
    // in English the comma forces quotes, the semicolon does not
    const [, en] = lines(toCsv([row({ purpose: 'a;b', kind: 'c,d' })], 'en'));
    expect(en).toContain(',a;b,"c,d",');
  });

  it('writes empty fields for absent values and only the header for no rows', () => {
    const [, line] = lines(
      toCsv([row({ value_date: null, counterparty_iban: null, purpose: null, kind: null, running_balance: null })], 'de'),
    );
    expect(line).toBe('2026-11-20;;acc-giro;REWE Markt GmbH;;;;-1234,5;EUR;gebucht;;tx-1');
    expect(lines(toCsv([], 'en'))).toHaveLength(1);
  });

  it('JSON export is the rows as sent', () => {
    const rows = [row(), row({ id: 'tx-2', amount: '12.00' })];
    expect(JSON.parse(toJsonExport(rows))).toEqual(rows);
  });
});
