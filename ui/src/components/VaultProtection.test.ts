import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../App.svelte';
import { FakeBackend, type FakeState } from '../lib/backend/fake';
import { de } from '../lib/i18n/de';
import { en } from '../lib/i18n/en';
import type { Locale } from '../lib/i18n/types';

function start(state: Partial<FakeState>, locale: Locale = 'en') {
  const backend = new FakeBackend({ firstRun: false, ...state });
  const user = userEvent.setup();
  render(App, { props: { backend, locale, intlLocale: locale === 'de' ? 'de-DE' : 'en-GB' } });
  return { backend, user };
}

async function openSettings(user: ReturnType<typeof userEvent.setup>) {
  await user.click(await screen.findByTestId('nav-settings'));
  return screen.findByTestId('vault-protection');
}

describe('Settings → vault protection', () => {
  it('moves the key from the keyring to a passphrase', async () => {
    const { backend, user } = start({ keySource: 'keyring' });
    const section = await openSettings(user);
    expect(section).toHaveAttribute('data-key-source', 'keyring');
    expect(within(section).getByTestId('vault-key-source')).toHaveTextContent(en.settings.vault.currentKeyring);
    const form = within(section).getByTestId('vault-to-passphrase');
    expect(form).toHaveTextContent(en.settings.vault.toPassphraseTitle);
    // The same strength hint and warning as the create-passphrase screen.
    expect(within(form).getByTestId('passphrase-warning')).toHaveTextContent(en.createPassphrase.warningTitle);
    expect(within(form).getByTestId('passphrase-strength')).toHaveTextContent(en.createPassphrase.strength.empty);

    const field = within(form).getByLabelText(en.settings.vault.passphrase);
    const confirm = within(form).getByLabelText(en.settings.vault.confirm);
    await user.type(field, 'short');
    await user.click(within(form).getByTestId('vault-to-passphrase-submit'));
    expect(within(form).getByText(en.createPassphrase.tooShort(8))).toBeInTheDocument();
    expect(within(form).getByTestId('passphrase-strength')).toHaveAttribute('data-strength', 'weak');

    await user.clear(field);
    await user.type(field, 'Correct Horse Battery 9');
    await user.type(confirm, 'Correct Horse Battery 8');
    await user.click(within(form).getByTestId('vault-to-passphrase-submit'));
    expect(within(form).getByText(en.createPassphrase.mismatch)).toBeInTheDocument();
    expect(backend.calls).not.toContain('changeKeySource');

    await user.clear(confirm);
    await user.type(confirm, 'Correct Horse Battery 9');
    await user.click(within(form).getByTestId('vault-to-passphrase-submit'));
    expect(await screen.findByTestId('vault-changed')).toHaveTextContent(en.settings.vault.nowPassphrase);
    expect(backend.state.keySource).toBe('passphrase');
    expect(backend.state.passphrase).toBe('Correct Horse Battery 9');
    expect(section).toHaveAttribute('data-key-source', 'passphrase');
    expect(within(section).getByTestId('vault-key-source')).toHaveTextContent(en.settings.vault.currentPassphrase);
    expect(within(section).getByTestId('vault-to-keyring')).toBeInTheDocument();
    expect(screen.getByText(en.nav.vaultPassphrase)).toBeInTheDocument();
  });

  it('moves the key from a passphrase to the keyring', async () => {
    const { backend, user } = start({ keySource: 'passphrase' }, 'de');
    const section = await openSettings(user);
    expect(section).toHaveTextContent(de.settings.vault.title);
    expect(within(section).getByTestId('vault-key-source')).toHaveTextContent(de.settings.vault.currentPassphrase);
    expect(within(section).queryByTestId('vault-to-passphrase')).not.toBeInTheDocument();

    await user.click(within(section).getByTestId('vault-to-keyring'));
    expect(await screen.findByTestId('vault-changed')).toHaveTextContent(de.settings.vault.nowKeyring);
    expect(backend.state.keySource).toBe('keyring');
    expect(section).toHaveAttribute('data-key-source', 'keyring');
    expect(within(section).getByTestId('vault-to-passphrase')).toBeInTheDocument();
  });

  it('shows the error when the keyring does not answer and keeps the passphrase', async () => {
    const { backend, user } = start({ keySource: 'passphrase' });
    backend.failNext('changeKeySource', { code: 'KeyringUnavailable', message: 'org.freedesktop.secrets was not provided' });
    const section = await openSettings(user);
    await user.click(within(section).getByTestId('vault-to-keyring'));
    const error = await screen.findByTestId('vault-error');
    expect(error).toHaveAttribute('data-error-code', 'KeyringUnavailable');
    expect(error).toHaveTextContent(en.settings.vault.failed);
    expect(error).toHaveTextContent(en.errors.KeyringUnavailable);
    expect(error).toHaveTextContent(en.common.errorCode('KeyringUnavailable'));
    expect(backend.state.keySource).toBe('passphrase');
    expect(section).toHaveAttribute('data-key-source', 'passphrase');
    expect(screen.queryByTestId('vault-changed')).not.toBeInTheDocument();
  });
});
