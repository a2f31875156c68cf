import { describe, expect, it } from 'vitest';
import type { PendingMatch, SyncWarning } from '../../bindings';
import { createI18n } from './index';
import { syncWarningText } from './syncWarnings';

const warnings: SyncWarning[] = [
  { code: 'account_not_delivered', account_name: 'Girokonto' },
  { code: 'withdrawn_removed', count: 1 },
  { code: 'withdrawn_removed', count: 3 },
  { code: 'unknown_account_skipped', count: 2 },
  {
    code: 'balance_mismatch',
    account_id: 'a1',
    account_name: 'Girokonto',
    expected: '1234.5',
    reported: '1200.00',
    currency: 'EUR',
  },
];

describe('sync warnings', () => {
  it('are said in German and English, with the parameters formatted', () => {
    const en = createI18n('en', 'en-GB');
    const de = createI18n('de', 'de-DE');
    expect(warnings.map((w) => syncWarningText(w, en))).toEqual([
      'The bank could not send new data for Girokonto.',
      'One booking the bank withdrew was removed.',
      '3 bookings the bank withdrew were removed.',
      '2 bookings of accounts Kontor does not know were skipped.',
      expect.stringContaining('the bank reports €1,200.00, the previous balance plus the new bookings make €1,234.50'),
    ]);
    const german = warnings.map((w) => syncWarningText(w, de));
    expect(german[0]).toBe('Die Bank konnte für Girokonto keine neuen Daten senden.');
    expect(german[4]).toContain('Die Bank meldet 1.200,00');
    expect(german[4]).toContain('ergibt 1.234,50');
  });
});

describe('pending match reasons', () => {
  const rule: PendingMatch = {
    rule: 'same_booking',
    pending_provider_id: 'p-9',
    pending_date: '2026-11-28',
    days_apart: 2,
    fields: ['amount', 'counterparty_name', 'purpose'],
  };
  it('name the rule, the pending booking and the fields compared', () => {
    const en = createI18n('en', 'en-GB');
    const de = createI18n('de', 'de-DE');
    expect(en.t.transactions.detail.pendingMatch(rule, '28/11/2026')).toBe(
      'the bank no longer lists the pending booking of 28/11/2026 (p-9), and this booking, 2 days later, is the only one with the same amount, counterparty, purpose.',
    );
    expect(de.t.transactions.detail.pendingMatch({ ...rule, rule: 'provider_id', fields: [] }, '28.11.2026')).toBe(
      'die Bank hat die vorgemerkte Buchung vom 28.11.2026 (p-9) unter derselben ID gebucht.',
    );
  });
});
