import { beforeEach, describe, expect, it, vi } from 'vitest';
import { toKontorError } from './errors';
import { FakeBackend } from './fake';
import { DEMO_ACCOUNTS, DEMO_CONNECTIONS } from './fixtures';

const invoke = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({ invoke: (...args: unknown[]) => invoke(...args) }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

describe('toKontorError', () => {
  it('passes a KontorError through', () => {
    expect(toKontorError({ code: 'RateLimited', message: 'slow down', retry_at: '2026-11-22T00:00:00Z', x: 1 })).toEqual({
      code: 'RateLimited',
      message: 'slow down',
      retry_at: '2026-11-22T00:00:00Z',
    });
  });

  it('normalises anything else to Internal', () => {
    expect(toKontorError('command unlock_vault not found')).toEqual({
      code: 'Internal',
      message: 'command unlock_vault not found',
    });
    expect(toKontorError(new TypeError('boom'))).toEqual({ code: 'Internal', message: 'boom' });
    expect(toKontorError({ code: 'NoSuchCode', message: 'm' })).toEqual({ code: 'Internal', message: 'm' });
    expect(toKontorError(undefined).code).toBe('Internal');
  });
});

describe('TauriBackend', () => {
  beforeEach(() => invoke.mockReset());

  it('invokes commands with camelCase args', async () => {
    const { TauriBackend } = await import('./tauri');
    invoke.mockResolvedValueOnce({ vault: { state: 'ready' }, first_run: false, data_dir: '/d', key_source: null });
    await new TauriBackend().unlockVault('secret phrase');
    expect(invoke).toHaveBeenCalledWith('unlock_vault', { passphrase: 'secret phrase' });
  });

  it('sends change_key_source with the target and a passphrase or null', async () => {
    const { TauriBackend } = await import('./tauri');
    const status = { vault: { state: 'ready' }, first_run: false, data_dir: '/d', key_source: 'passphrase' };
    invoke.mockResolvedValue(status);
    await expect(new TauriBackend().changeKeySource('passphrase', 'long enough')).resolves.toEqual(status);
    expect(invoke).toHaveBeenCalledWith('change_key_source', { target: 'passphrase', passphrase: 'long enough' });
    await new TauriBackend().changeKeySource('keyring');
    expect(invoke).toHaveBeenCalledWith('change_key_source', { target: 'keyring', passphrase: null });
  });

  it('rejects with a KontorError', async () => {
    const { TauriBackend } = await import('./tauri');
    invoke.mockRejectedValueOnce({ code: 'VaultWrongKey', message: 'no' });
    await expect(new TauriBackend().unlockVault('x')).rejects.toEqual({ code: 'VaultWrongKey', message: 'no' });
    invoke.mockRejectedValueOnce('IPC went away');
    await expect(new TauriBackend().overview()).rejects.toEqual({ code: 'Internal', message: 'IPC went away' });
  });
});

describe('FakeBackend', () => {
  it('computes exact totals per currency', async () => {
    const fake = new FakeBackend({
      firstRun: false,
      connections: DEMO_CONNECTIONS,
      accounts: [
        ...DEMO_ACCOUNTS,
        { ...DEMO_ACCOUNTS[0]!, id: 'usd', currency: 'USD', iban: null, balance_booked: '0.1' },
        { ...DEMO_ACCOUNTS[0]!, id: 'usd2', currency: 'USD', iban: null, balance_booked: '0.2' },
      ],
    });
    const overview = await fake.overview();
    expect(overview.totals).toEqual([
      { currency: 'EUR', amount: '17119.17' },
      { currency: 'USD', amount: '0.3' },
    ]);
  });

  it('refuses data while locked', async () => {
    const fake = new FakeBackend({ vault: { state: 'needs_passphrase' } });
    await expect(fake.overview()).rejects.toMatchObject({ code: 'VaultLocked' });
    await expect(fake.unlockVault('wrong')).rejects.toMatchObject({ code: 'VaultWrongKey' });
    const status = await fake.unlockVault(fake.state.passphrase);
    expect(status.vault.state).toBe('ready');
  });

  it('handles callbacks at once and keeps the outcomes until taken', async () => {
    const fake = new FakeBackend();
    let nudges = 0;
    await fake.onCallbackResult(() => (nudges += 1));
    fake.deliverCallback('kontor://sca-callback?state=nobody');
    expect(nudges).toBe(1);
    const results = await fake.takeCallbackResults();
    expect(results).toMatchObject([{ kind: 'error', error: { code: 'ScaStateMismatch' } }]);
    expect(await fake.takeCallbackResults()).toEqual([]);
  });
});
