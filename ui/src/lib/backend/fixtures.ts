import type { AccountSummary, ConnectionSummary, ErrorCode } from '../../bindings';
import type { FakeState } from './fake';

/** Demo data for the fake backend: three accounts at two banks, as the Demo Bank would sync them. */
export const DEMO_CONNECTIONS: ConnectionSummary[] = [
  {
    id: 'con-sparkasse',
    bank_name: 'Sparkasse KölnBonn',
    status: 'active',
    consent_expires_at: '2027-03-14T09:12:00+00:00',
    last_synced_at: '2026-11-21T07:45:00+00:00',
  },
  {
    id: 'con-dkb',
    bank_name: 'DKB',
    status: 'active',
    consent_expires_at: '2027-02-02T18:30:00+00:00',
    last_synced_at: '2026-11-21T07:46:00+00:00',
  },
];

export const DEMO_ACCOUNTS: AccountSummary[] = [
  {
    id: 'acc-giro',
    connection_id: 'con-sparkasse',
    bank_name: 'Sparkasse KölnBonn',
    name: 'Girokonto',
    iban: 'DE89370400440532013000',
    account_type: 'checking',
    currency: 'EUR',
    balance_booked: '2431.57',
    balance_booked_date: '2026-11-21',
    balance_available: '4431.57',
  },
  {
    id: 'acc-tagesgeld',
    connection_id: 'con-sparkasse',
    bank_name: 'Sparkasse KölnBonn',
    name: 'Tagesgeld',
    iban: 'DE12370501980001234567',
    account_type: 'savings',
    currency: 'EUR',
    balance_booked: '15000.00',
    balance_booked_date: '2026-11-20',
    balance_available: null,
  },
  {
    id: 'acc-visa',
    connection_id: 'con-dkb',
    bank_name: 'DKB',
    name: 'Visa Card',
    iban: null,
    account_type: 'credit_card',
    currency: 'EUR',
    balance_booked: '-312.4',
    balance_booked_date: '2026-11-21',
    balance_available: null,
  },
];

export type FakeScenario =
  | 'first-run'
  | 'empty'
  | 'accounts'
  | 'unlock'
  | 'no-keyring'
  | `error:${ErrorCode}`;

/** Initial fake state for a named scenario (`?fake=accounts` in the dev server's URL). */
export function scenario(name: string | null): Partial<FakeState> {
  switch (name) {
    case 'empty':
      return { firstRun: false };
    case 'accounts':
      return { firstRun: false, connections: DEMO_CONNECTIONS, accounts: DEMO_ACCOUNTS };
    case 'unlock':
      return { vault: { state: 'needs_passphrase' }, keySource: 'passphrase' };
    case 'no-keyring':
      return {
        vault: {
          state: 'keyring_unavailable',
          error: { code: 'KeyringUnavailable', message: 'No system keyring answered (Secret Service is not running).' },
        },
        keySource: null,
      };
    default:
      if (name?.startsWith('error:')) {
        const code = name.slice('error:'.length) as ErrorCode;
        return { vault: { state: 'failed', error: { code, message: `Simulated failure: ${code}.` } } };
      }
      return {};
  }
}
