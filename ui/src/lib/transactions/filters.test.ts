import { describe, expect, it } from 'vitest';
import { activeChips, buildFilter, emptyChips, formatDateInput, parseAmountInput, parseDateInput, periodRange } from './filters';

const today = new Date(2026, 10, 21); // 21 Nov 2026, local

describe('period presets', () => {
  it('cover calendar months and years, inclusive', () => {
    expect(periodRange('this-month', today)).toEqual({ from: '2026-11-01', to: '2026-11-30' });
    expect(periodRange('last-month', today)).toEqual({ from: '2026-10-01', to: '2026-10-31' });
    expect(periodRange('last-month', new Date(2026, 0, 15))).toEqual({ from: '2025-12-01', to: '2025-12-31' });
    expect(periodRange('last-month', new Date(2024, 2, 31))).toEqual({ from: '2024-02-01', to: '2024-02-29' });
    expect(periodRange('this-year', today)).toEqual({ from: '2026-01-01', to: '2026-12-31' });
    expect(periodRange('all', today)).toEqual({});
  });

  it('custom range takes whatever end is a valid date', () => {
    expect(periodRange('custom', today, { from: '2025-02-03', to: '' })).toEqual({ from: '2025-02-03' });
    expect(periodRange('custom', today, { from: '2025-02-03', to: '2025-03-01' })).toEqual({ from: '2025-02-03', to: '2025-03-01' });
    expect(periodRange('custom', today, { from: '03.02.2025', to: '' })).toEqual({});
  });
});

describe('date input', () => {
  it('reads German dates and ISO dates, in either language', () => {
    expect(parseDateInput('01.03.2025')).toBe('2025-03-01');
    expect(parseDateInput(' 1.3.2025 ')).toBe('2025-03-01');
    expect(parseDateInput('1.3.25')).toBe('2025-03-01');
    expect(parseDateInput('2025-03-01')).toBe('2025-03-01');
    expect(parseDateInput('2025-3-1')).toBe('2025-03-01');
    expect(parseDateInput('29.02.2024')).toBe('2024-02-29');
  });

  it('leaves empty as no bound and refuses partial, impossible or other notations', () => {
    expect(parseDateInput('')).toBeNull();
    expect(parseDateInput('   ')).toBeNull();
    for (const bad of ['01.03.', '31.02.2025', '29.02.2025', '2025-13-01', '03/01/2025', '1.3.202', 'heute', '00.01.2025']) {
      expect(parseDateInput(bad), bad).toBeUndefined();
    }
  });

  it('shows a date in the language of the UI, not of the WebView', () => {
    expect(formatDateInput('2025-03-01', 'de')).toBe('01.03.2025');
    expect(formatDateInput('2025-03-01', 'en')).toBe('2025-03-01');
    expect(formatDateInput('', 'de')).toBe('');
  });
});

describe('amount input', () => {
  it('reads German and English notation into a decimal string', () => {
    expect(parseAmountInput('12,50')).toBe('12.50');
    expect(parseAmountInput('1.234,50')).toBe('1234.50');
    expect(parseAmountInput('1,234.50')).toBe('1234.50');
    expect(parseAmountInput('1.234')).toBe('1234');
    expect(parseAmountInput('12.5')).toBe('12.5');
    expect(parseAmountInput(' 50 € ')).toBe('50');
    expect(parseAmountInput('-75')).toBe('75');
  });

  it('empty is no bound, nonsense is invalid', () => {
    expect(parseAmountInput('')).toBeNull();
    expect(parseAmountInput('  ')).toBeNull();
    expect(parseAmountInput('abc')).toBeUndefined();
    expect(parseAmountInput('1,2,3')).toBeUndefined();
  });
});

describe('buildFilter', () => {
  it('no chips: no conditions', () => {
    expect(buildFilter(emptyChips(), today)).toEqual({});
    expect(activeChips(emptyChips())).toBe(0);
  });

  it('maps every chip to the query', () => {
    const chips = {
      account: 'acc-giro',
      period: 'last-month' as const,
      from: '',
      to: '',
      direction: 'out' as const,
      min: '10',
      max: '1.000,00',
      status: 'booked' as const,
      text: '  rewe   köln ',
    };
    expect(buildFilter(chips, today)).toEqual({
      accounts: ['acc-giro'],
      from: '2026-10-01',
      to: '2026-10-31',
      direction: 'out',
      min: '10',
      max: '1000.00',
      status: 'booked',
      text: 'rewe köln',
    });
    expect(activeChips(chips)).toBe(5);
  });

  it('leaves out an invalid amount rather than sending it, and the account page fixes the account', () => {
    const chips = { ...emptyChips(), account: 'acc-visa', min: 'x', max: '' };
    expect(buildFilter(chips, today)).toEqual({ accounts: ['acc-visa'] });
    expect(buildFilter(chips, today, 'acc-giro')).toEqual({ accounts: ['acc-giro'] });
    expect(activeChips(chips, 'acc-giro')).toBe(1); // the amount chip still counts as set
  });
});
