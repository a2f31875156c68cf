import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from './App.svelte';
import type { ErrorCode } from './bindings';
import { FakeBackend, type FakeState } from './lib/backend/fake';
import { DEMO_ACCOUNTS, DEMO_CONNECTIONS, scenario } from './lib/backend/fixtures';
import { de } from './lib/i18n/de';
import { en } from './lib/i18n/en';
import type { Locale } from './lib/i18n/types';

const plain = (s: string | null) => (s ?? '').replace(/[\u00a0\u202f]/g, ' ').replace(/\s+/g, ' ').trim();

function start(initial: Partial<FakeState> = {}, locale: Locale = 'en') {
  const backend = new FakeBackend(initial);
  const user = userEvent.setup();
  const intlLocale = locale === 'de' ? 'de-DE' : 'en-GB';
  render(App, { props: { backend, locale, intlLocale } });
  return { backend, user };
}

describe('startup routing', () => {
  it('ready + first run → welcome', async () => {
    start(scenario('first-run'));
    expect(await screen.findByTestId('first-run')).toBeInTheDocument();
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent(en.welcome.title);
    expect(screen.queryByTestId('overview')).not.toBeInTheDocument();
  });

  it('ready → overview', async () => {
    start(scenario('empty'));
    expect(await screen.findByTestId('overview')).toBeInTheDocument();
    expect(screen.queryByTestId('first-run')).not.toBeInTheDocument();
  });

  it('tells the shell once that the first overview is painted (the cold-start benchmark mark)', async () => {
    const { backend, user } = start({ firstRun: false, connections: DEMO_CONNECTIONS, accounts: DEMO_ACCOUNTS });
    await screen.findByTestId('totals');
    expect(backend.overviewPaints).toBe(0);
    await waitFor(() => expect(backend.overviewPaints).toBe(1));
    await user.click(screen.getByTestId('nav-transactions'));
    await user.click(screen.getByTestId('nav-overview'));
    await screen.findByTestId('totals');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(backend.overviewPaints).toBe(1);
  });

  it('needs_passphrase → unlock', async () => {
    start(scenario('unlock'));
    expect(await screen.findByTestId('unlock')).toBeInTheDocument();
    expect(screen.getByLabelText(en.unlock.passphrase)).toHaveFocus();
  });

  it('keyring_unavailable → create with passphrase', async () => {
    start(scenario('no-keyring'));
    expect(await screen.findByTestId('create-passphrase')).toBeInTheDocument();
    expect(screen.getByText(en.createPassphrase.warningTitle)).toBeInTheDocument();
    expect(screen.getByTestId('keyring-cause')).toHaveTextContent(en.createPassphrase.causes.no_session_bus ?? 'missing');
  });

  it('failed → vault error with its code', async () => {
    start(scenario('error:VaultCorrupt'));
    const root = await screen.findByTestId('vault-error');
    expect(root).toHaveAttribute('data-error-code', 'VaultCorrupt');
  });

  it('a rejected app_status still lands on an explained error', async () => {
    const backend = new FakeBackend(scenario('first-run'));
    backend.failNext('appStatus', { code: 'Io', message: 'disk on fire' });
    render(App, { props: { backend, locale: 'en' } });
    expect(await screen.findByTestId('vault-error')).toHaveAttribute('data-error-code', 'Io');
  });
});

describe('first run', () => {
  it('get started → complete_onboarding → overview', async () => {
    const { backend, user } = start(scenario('first-run'));
    const button = await screen.findByTestId('get-started');
    expect(button).toHaveFocus();
    expect(screen.getByText(en.welcome.promiseLocalTitle)).toBeInTheDocument();
    expect(screen.getByText(en.welcome.promiseEncryptedTitle)).toBeInTheDocument();
    expect(screen.getByText(en.welcome.promiseSyncTitle)).toBeInTheDocument();
    expect(screen.getByText(en.welcome.demoHint)).toBeInTheDocument();
    await user.click(button);
    expect(await screen.findByTestId('overview-empty')).toBeInTheDocument();
    // focus lands on the next step, not on the page
    await waitFor(() => expect(screen.getByTestId('link-bank')).toHaveFocus());
    expect(backend.calls).toEqual([
      'onCallbackResult',
      'onFlowProgress',
      'takeCallbackResults',
      'appStatus',
      'preferences',
      'completeOnboarding',
      'overview',
    ]);
    expect(backend.state.firstRun).toBe(false);
  });

  it('shows a failed onboarding instead of hanging', async () => {
    const backend = new FakeBackend(scenario('first-run'));
    backend.failNext('completeOnboarding', { code: 'Io', message: 'read-only file system' });
    render(App, { props: { backend, locale: 'de' } });
    await userEvent.click(await screen.findByTestId('get-started'));
    expect(await screen.findByRole('alert')).toHaveTextContent(de.errors.Io);
    expect(screen.getByTestId('first-run')).toBeInTheDocument();
  });
});

describe('overview', () => {
  it('empty: a clear next step that routes to the linkBank action', async () => {
    const { user } = start(scenario('empty'));
    const empty = await screen.findByTestId('overview-empty');
    expect(within(empty).getByText(en.empty.title)).toBeInTheDocument();
    expect(within(empty).getByText(en.empty.demoNote)).toBeInTheDocument();
    expect(screen.queryByTestId('link-bank-dialog')).not.toBeInTheDocument();
    await user.click(within(empty).getByTestId('link-bank'));
    const dialog = await screen.findByTestId('link-bank-dialog');
    expect(within(dialog).getByRole('heading')).toHaveTextContent(en.linkBank.title);
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByTestId('link-bank-dialog')).not.toBeInTheDocument());
    expect(screen.getByTestId('link-bank')).toHaveFocus();
  });

  it('with accounts: grouped by bank, formatted, with totals', async () => {
    start({ firstRun: false, connections: DEMO_CONNECTIONS, accounts: DEMO_ACCOUNTS }, 'de');
    await screen.findByTestId('totals');
    expect(screen.queryByTestId('overview-empty')).not.toBeInTheDocument();

    const totals = screen.getAllByTestId('total');
    expect(totals.map((t) => plain(t.textContent))).toEqual(['17.119,17 €']);

    const groups = screen.getAllByTestId('bank-group');
    expect(groups).toHaveLength(2);
    const [sparkasse, dkb] = groups as [HTMLElement, HTMLElement];
    expect(within(sparkasse).getByRole('heading')).toHaveTextContent('Sparkasse KölnBonn');
    expect(within(sparkasse).getAllByTestId('account-row')).toHaveLength(2);
    expect(within(dkb).getAllByTestId('account-row')).toHaveLength(1);

    const rows = within(sparkasse).getAllByTestId('account-row');
    expect(within(rows[0]!).getByText('Girokonto')).toBeInTheDocument();
    // The type is not repeated when it is the account's name ("Girokonto · Girokonto").
    expect(within(rows[0]!).getAllByText(de.overview.accountType.checking)).toHaveLength(1);
    expect(within(rows[1]!).getByText(de.overview.accountType.savings)).toBeInTheDocument();
    expect(within(rows[0]!).getByTestId('iban')).toHaveTextContent('DE89 3704 0044 0532 0130 00');
    expect(plain(within(rows[0]!).getByTestId('balance').textContent)).toBe('2.431,57 €');
    expect(plain(rows[0]!.textContent)).toContain('Stand 21.11.2026');

    const visa = within(dkb).getByTestId('balance');
    expect(plain(visa.textContent)).toBe('-312,40 €');
    expect(visa).toHaveClass('negative');
    expect(within(rows[0]!).getByTestId('balance')).not.toHaveClass('negative');
  });

  it('shows one total per currency', async () => {
    const usd = { ...DEMO_ACCOUNTS[0]!, id: 'usd', name: 'USD account', currency: 'USD', iban: null, balance_booked: '-10.5' };
    start({ firstRun: false, connections: DEMO_CONNECTIONS, accounts: [...DEMO_ACCOUNTS, usd] });
    await screen.findByTestId('totals');
    const totals = screen.getAllByTestId('total');
    expect(totals.map((t) => t.dataset['currency'])).toEqual(['EUR', 'USD']);
    expect(plain(totals[0]!.textContent)).toBe('€17,119.17');
    expect(plain(totals[1]!.textContent)).toBe('-US$10.50');
    expect(totals[1]).toHaveClass('negative');
  });

  it('explains a failed load and retries', async () => {
    const backend = new FakeBackend(scenario('empty'));
    backend.failNext('overview', { code: 'VaultBusy', message: 'busy' });
    render(App, { props: { backend, locale: 'en' } });
    expect(await screen.findByText(en.errors.VaultBusy)).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: en.common.retry }));
    expect(await screen.findByTestId('overview-empty')).toBeInTheDocument();
  });
});

describe('unlock', () => {
  it('shows VaultWrongKey, then opens with the right passphrase (Enter submits)', async () => {
    const { backend, user } = start({ ...scenario('unlock'), firstRun: false });
    const field = await screen.findByLabelText(en.unlock.passphrase);
    await user.type(field, 'nope{Enter}');
    expect(await screen.findByText(en.unlock.wrongKey)).toBeInTheDocument();
    expect(field).toHaveAttribute('aria-invalid', 'true');
    await user.type(field, `${backend.state.passphrase}{Enter}`);
    expect(await screen.findByTestId('overview')).toBeInTheDocument();
  });
});

describe('create with passphrase', () => {
  it('enforces 8 characters and a matching confirmation, then creates the vault', async () => {
    const { backend, user } = start(scenario('no-keyring'));
    const pass = await screen.findByLabelText(en.createPassphrase.passphrase);
    const confirm = screen.getByLabelText(en.createPassphrase.confirm);
    await user.type(pass, 'short');
    await user.type(confirm, 'short{Enter}');
    expect(await screen.findByText(en.createPassphrase.tooShort(8))).toBeInTheDocument();
    expect(backend.calls).not.toContain('createVaultWithPassphrase');

    await user.clear(pass);
    await user.type(pass, 'correct horse battery');
    await user.clear(confirm);
    await user.type(confirm, 'correct horse battery!{Enter}');
    expect(await screen.findByText(en.createPassphrase.mismatch)).toBeInTheDocument();
    expect(backend.calls).not.toContain('createVaultWithPassphrase');
    expect(screen.getByText(en.createPassphrase.strength.strong)).toBeInTheDocument();

    await user.clear(confirm);
    await user.type(confirm, 'correct horse battery{Enter}');
    expect(await screen.findByTestId('first-run')).toBeInTheDocument();
    expect(backend.state.passphrase).toBe('correct horse battery');
    expect(backend.state.keySource).toBe('passphrase');
  });
});

describe('vault error screen', () => {
  const explained: ErrorCode[] = [
    'VaultWrongKey',
    'VaultKeyMissing',
    'VaultCorrupt',
    'VaultNewerSchema',
    'VaultBusy',
    'KeyringUnavailable',
    'Io',
    'Internal',
  ];

  for (const [locale, dict] of [
    ['en', en],
    ['de', de],
  ] as const) {
    for (const code of explained) {
      it(`explains ${code} in ${locale}`, async () => {
        start(scenario(`error:${code}`), locale);
        const root = await screen.findByTestId('vault-error');
        expect(root).toHaveAttribute('data-error-code', code);
        const help = dict.vaultError.byCode[code as keyof typeof dict.vaultError.byCode];
        expect(within(root).getByRole('heading', { level: 1 })).toHaveTextContent(help.title);
        expect(within(root).getByText(help.what)).toBeInTheDocument();
        expect(within(root).getByText(help.todo)).toBeInTheDocument();
        expect(within(root).getByText(dict.vaultError.unchanged)).toBeInTheDocument();
        expect(within(root).getByTestId('data-dir')).toHaveTextContent('/home/you/.local/share/kontor');
      });
    }
  }

  it('gives every other code the generic help and the dictionary sentence in details', async () => {
    start(scenario('error:ProviderUnavailable'), 'de');
    const root = await screen.findByTestId('vault-error');
    expect(within(root).getByRole('heading', { level: 1 })).toHaveTextContent(de.vaultError.generic.title);
    expect(within(root).getByText(de.common.errorCode('ProviderUnavailable'))).toBeInTheDocument();
  });

  it('retries app_status and moves on once the vault is free', async () => {
    const { backend, user } = start({ ...scenario('error:VaultBusy'), firstRun: false });
    await screen.findByTestId('vault-error');
    backend.state.vault = { state: 'ready' };
    await user.click(screen.getByRole('button', { name: en.vaultError.retry }));
    expect(await screen.findByTestId('overview')).toBeInTheDocument();
  });
});

describe('callbacks', () => {
  it('shows outcomes that arrived before the UI and later ones, each once', async () => {
    const refused = { code: 'ScaStateMismatch' as const, message: 'no flow' };
    const { backend } = start({ ...scenario('empty'), inbox: [{ kind: 'error', error: refused }] });
    await screen.findByTestId('overview');
    expect(backend.state.inbox).toEqual([]);
    expect(await screen.findByText(en.errors.ScaStateMismatch)).toBeInTheDocument();
    backend.deliverCallback('kontor://sca-callback?state=unknown');
    await waitFor(() => expect(screen.getAllByTestId('overview-notice')).toHaveLength(2));
    expect(backend.state.inbox).toEqual([]);
    expect(backend.calls.filter((c) => c === 'takeCallbackResults')).toHaveLength(2);
  });
});
