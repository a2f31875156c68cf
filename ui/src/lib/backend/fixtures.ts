import type { AccountSummary, ConnectionSummary, ErrorCode } from '../../bindings';
import type { FakeState } from './fake';
import { FAKE_DEMO_FINX_PROVIDER, FAKE_DEMO_PROVIDER, fakeStoredReport } from './fakeLink';

/** Demo data for the fake backend: three accounts at two banks, as the Demo Bank would sync them. */
export const DEMO_CONNECTIONS: ConnectionSummary[] = [
  {
    id: 'con-sparkasse',
    bank_name: 'Sparkasse KölnBonn',
    status: 'active',
    consent_expires_at: '2027-03-14T09:12:00+00:00',
    last_synced_at: '2026-11-21T07:45:00+00:00',
    deadline_warnings: [],
  },
  {
    id: 'con-dkb',
    bank_name: 'DKB',
    status: 'active',
    consent_expires_at: '2027-02-02T18:30:00+00:00',
    last_synced_at: '2026-11-21T07:46:00+00:00',
    deadline_warnings: [],
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

/** Transactions in the demo scenarios (`?rows=1000000` in the dev server's URL overrides it). */
export const DEMO_TRANSACTIONS = 2_400;

export type FakeScenario =
  | 'first-run'
  | 'empty'
  | 'accounts'
  | 'finx'
  | 'unlock'
  | 'no-keyring'
  | `error:${ErrorCode}`;

/** Initial fake state for a named scenario (`?fake=accounts` in the dev server's URL). */
export function scenario(name: string | null): Partial<FakeState> {
  switch (name) {
    case 'empty':
      return { firstRun: false };
    case 'accounts':
      return { firstRun: false, connections: DEMO_CONNECTIONS, accounts: DEMO_ACCOUNTS, transactionCount: DEMO_TRANSACTIONS };
    case 'finx':
      // Both demo providers, a finX connection whose access runs out soon, a one-time import, a report.
      return {
        firstRun: false,
        providers: [FAKE_DEMO_PROVIDER, FAKE_DEMO_FINX_PROVIDER],
        connections: [
          { ...(DEMO_CONNECTIONS[0] as ConnectionSummary), access_kind: 'finx_ongoing', consent_days_left: 12, deadline_warnings: [{ code: 'consent_ends', days_left: 12 }] },
          { ...(DEMO_CONNECTIONS[1] as ConnectionSummary), access_kind: 'finx_onetime' },
        ],
        accounts: DEMO_ACCOUNTS,
        transactionCount: DEMO_TRANSACTIONS,
        reports: [fakeStoredReport('report-1', '2026-03-02T10:15:00+00:00')],
      };
    case 'unlock':
      return { vault: { state: 'needs_passphrase' }, keySource: 'passphrase' };
    case 'no-keyring':
      return {
        vault: {
          state: 'keyring_unavailable',
          error: { code: 'KeyringUnavailable', message: 'No system keyring answered (Secret Service is not running).' },
          cause: 'no_session_bus',
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
