import { describe, expect, it } from 'vitest';
import { formatDate, parseIsoDate } from './date';
import { roundDecimal, signOf, sumDecimals } from './decimal';
import { formatIban } from './iban';
import { formatMoney } from './money';

// Intl output uses U+00A0 (no-break space) and U+202F in some locales; normalise for readable tests.
const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');

describe('formatMoney', () => {
  for (const forceNumberPath of [false, true]) {
    describe(forceNumberPath ? 'via Number (older engines)' : 'via string (Intl v3)', () => {
      const fmt = (amount: string, currency: string, locale: string) =>
        plain(formatMoney(amount, currency, locale, { forceNumberPath }));

      it('formats per locale', () => {
        expect(fmt('1234.5', 'EUR', 'de-DE')).toBe('1.234,50 €');
        expect(fmt('1234.5', 'EUR', 'en-GB')).toBe('€1,234.50');
        expect(fmt('1234.5', 'USD', 'en-US')).toBe('$1,234.50');
      });

      it('keeps the sign of negative amounts', () => {
        expect(fmt('-312.4', 'EUR', 'de-DE')).toBe('-312,40 €');
        expect(fmt('-312.4', 'EUR', 'en-GB')).toBe('-€312.40');
      });

      it('is exact for 15 significant digits', () => {
        expect(fmt('1234567890123.45', 'EUR', 'en-GB')).toBe('€1,234,567,890,123.45');
        expect(fmt('-9999999999999.99', 'EUR', 'de-DE')).toBe('-9.999.999.999.999,99 €');
        expect(fmt('0.000000000000001', 'EUR', 'en-GB')).toBe('€0.00');
      });

      it('rounds half away from zero in decimal, not in binary', () => {
        // 1.005 is 1.00499999999999989… as a double; Intl alone would print 1.00.
        expect(fmt('1.005', 'EUR', 'en-GB')).toBe('€1.01');
        expect(fmt('-1.005', 'EUR', 'en-GB')).toBe('-€1.01');
        expect(fmt('2.675', 'EUR', 'de-DE')).toBe('2,68 €');
        expect(fmt('0.994', 'EUR', 'en-GB')).toBe('€0.99');
        expect(fmt('9.995', 'EUR', 'en-GB')).toBe('€10.00');
      });

      it('never shows minus zero', () => {
        expect(fmt('-0.001', 'EUR', 'en-GB')).toBe('€0.00');
        expect(fmt('-0', 'EUR', 'de-DE')).toBe('0,00 €');
      });

      it('uses the currency minor unit', () => {
        expect(fmt('1234.5', 'JPY', 'en-GB')).toBe('JP¥1,235');
        expect(fmt('12.3456', 'BHD', 'en-GB')).toBe('BHD 12.346');
      });
    });
  }

  it('is exact beyond 15 digits where Intl takes strings', () => {
    expect(plain(formatMoney('123456789012345678.91', 'EUR', 'en-GB'))).toBe('€123,456,789,012,345,678.91');
  });

  it('falls back for bad input instead of throwing', () => {
    expect(formatMoney('abc', 'EUR', 'en-GB')).toBe('abc EUR');
    expect(plain(formatMoney('10', 'XQQ', 'en-GB'))).toContain('10');
  });
});

describe('decimal helpers', () => {
  it('rounds exactly', () => {
    expect(roundDecimal('0.125', 2)).toBe('0.13');
    expect(roundDecimal('-0.125', 2)).toBe('-0.13');
    expect(roundDecimal('5', 2)).toBe('5.00');
    expect(roundDecimal('99.5', 0)).toBe('100');
    expect(roundDecimal('1e5', 2)).toBeNull();
  });

  it('sums without float error', () => {
    expect(sumDecimals(['0.1', '0.2'])).toBe('0.3');
    expect(sumDecimals(['2431.57', '15000.00', '-312.4'])).toBe('17119.17');
    expect(sumDecimals(['-5', '2.50'])).toBe('-2.50');
    expect(sumDecimals(['9007199254740993.01', '0.01'])).toBe('9007199254740993.02');
    expect(sumDecimals([])).toBe('0');
  });

  it('knows the sign', () => {
    expect(signOf('-0.00')).toBe(0);
    expect(signOf('-0.01')).toBe(-1);
    expect(signOf('3')).toBe(1);
  });
});

describe('formatIban', () => {
  it('groups in fours', () => {
    expect(formatIban('DE89370400440532013000')).toBe('DE89 3704 0044 0532 0130 00');
    expect(formatIban('de89 3704 0044 0532 0130 00')).toBe('DE89 3704 0044 0532 0130 00');
    expect(formatIban('NL91ABNA0417164300')).toBe('NL91 ABNA 0417 1643 00');
    expect(formatIban('AT611904300234573201')).toBe('AT61 1904 3002 3457 3201');
  });
});

describe('dates', () => {
  it('parses calendar dates as local dates', () => {
    const d = parseIsoDate('2026-11-01');
    expect(d?.getFullYear()).toBe(2026);
    expect(d?.getMonth()).toBe(10);
    expect(d?.getDate()).toBe(1);
    expect(parseIsoDate('01.11.2026')).toBeNull();
  });

  it('formats per locale', () => {
    expect(formatDate('2026-11-01', 'de-DE')).toBe('01.11.2026');
    expect(formatDate('2026-11-01', 'en-GB')).toBe('1 Nov 2026');
  });
});
