import { describe, expect, it } from 'vitest';
import type { AppStatus, VaultState } from '../../bindings';
import { groupByBank, monogram } from './overview';
import { passphraseStrength } from './passphrase';
import { screenFor } from './routing';
import { DEMO_ACCOUNTS, DEMO_CONNECTIONS } from '../backend/fixtures';

const status = (vault: VaultState, first_run = false): AppStatus => ({ vault, first_run, data_dir: '/d', key_source: null });
const err = { code: 'KeyringUnavailable', message: 'm' } as const;

describe('screenFor', () => {
  it('routes every vault state', () => {
    expect(screenFor(status({ state: 'ready' }, true))).toEqual({ kind: 'welcome' });
    expect(screenFor(status({ state: 'ready' }, false))).toEqual({ kind: 'overview' });
    expect(screenFor(status({ state: 'needs_passphrase' }))).toEqual({ kind: 'unlock' });
    expect(screenFor(status({ state: 'keyring_unavailable', error: err, cause: 'no_session_bus' }))).toEqual({
      kind: 'create-passphrase',
      error: err,
      cause: 'no_session_bus',
    });
    expect(screenFor(status({ state: 'failed', error: { code: 'VaultCorrupt', message: 'x' } }))).toEqual({
      kind: 'vault-error',
      error: { code: 'VaultCorrupt', message: 'x' },
    });
  });
});

describe('groupByBank', () => {
  it('groups in connection order with exact subtotals', () => {
    const groups = groupByBank({ accounts: DEMO_ACCOUNTS, connections: DEMO_CONNECTIONS, totals: [] });
    expect(groups.map((g) => g.bankName)).toEqual(['Sparkasse KölnBonn', 'DKB']);
    expect(groups[0]?.accounts.map((a) => a.name)).toEqual(['Girokonto', 'Tagesgeld']);
    expect(groups[0]?.subtotals).toEqual([{ currency: 'EUR', amount: '17431.57' }]);
    expect(groups[1]?.subtotals).toEqual([{ currency: 'EUR', amount: '-312.4' }]);
  });

  it('keeps accounts whose connection is unknown', () => {
    const groups = groupByBank({ accounts: DEMO_ACCOUNTS, connections: [], totals: [] });
    expect(groups).toHaveLength(2);
    expect(groups[1]?.connection).toBeNull();
  });

  it('makes monograms', () => {
    expect(monogram('Sparkasse KölnBonn')).toBe('SK');
    expect(monogram('DKB')).toBe('DK');
  });
});

describe('passphraseStrength', () => {
  it('grows with length and variety', () => {
    expect(passphraseStrength('')).toBe('empty');
    expect(passphraseStrength('abc')).toBe('weak');
    expect(passphraseStrength('aaaaaaaaaaaa')).toBe('weak');
    expect(passphraseStrength('sunny-day')).toBe('fair');
    expect(passphraseStrength('correct horse battery staple')).toBe('strong');
  });
});
