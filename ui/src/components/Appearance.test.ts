import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import App from '../App.svelte';
import { cachedPreferences, cachePreferences, resolveLocale, resolveTheme } from '../lib/app/appearance';
import { FakeBackend } from '../lib/backend/fake';
import { scenario } from '../lib/backend/fixtures';
import { de } from '../lib/i18n/de';
import { en } from '../lib/i18n/en';

afterEach(() => {
  localStorage.clear();
  delete document.documentElement.dataset.theme;
});

describe('appearance rules', () => {
  it('resolves "system" from the OS and explicit choices as they are', () => {
    expect(resolveLocale('system', ['de-AT'])).toBe('de');
    expect(resolveLocale('system', ['fr-FR'])).toBe('en');
    expect(resolveLocale('en', ['de-DE'])).toBe('en');
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('system', false)).toBe('light');
    expect(resolveTheme('light', true)).toBe('light');
  });

  it('caches valid preferences and ignores anything else', () => {
    cachePreferences(localStorage, { language: 'de', theme: 'dark' });
    expect(cachedPreferences(localStorage)).toEqual({ language: 'de', theme: 'dark' });
    localStorage.setItem('kontor.preferences', '{"language":"fr","theme":"dark"}');
    expect(cachedPreferences(localStorage)).toEqual({ language: 'system', theme: 'system' });
    localStorage.setItem('kontor.preferences', 'not json');
    expect(cachedPreferences(localStorage)).toEqual({ language: 'system', theme: 'system' });
  });
});

describe('Settings → language and appearance', () => {
  it('switches to German and dark at once, stores both in the vault, and keeps them for the next start', async () => {
    const backend = new FakeBackend(scenario('accounts'));
    const user = userEvent.setup();
    render(App, { props: { backend, locale: 'en', intlLocale: 'en-GB' } });
    await user.click(await screen.findByTestId('nav-settings'));
    expect(await screen.findByRole('heading', { level: 1 })).toHaveTextContent(en.settings.title);

    await user.selectOptions(screen.getByTestId('theme-select'), 'dark');
    await waitFor(() => expect(document.documentElement.dataset.theme).toBe('dark'));
    await user.selectOptions(screen.getByTestId('language-select'), 'de');
    // the page is re-created in German and stays on Settings
    await waitFor(() => expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent(de.settings.title));
    expect(screen.getByTestId('appearance')).toHaveTextContent(de.settings.appearance.title);
    expect(document.documentElement.lang).toBe('de');

    expect(backend.state.preferences).toEqual({ language: 'de', theme: 'dark' });
    expect(cachedPreferences(localStorage)).toEqual({ language: 'de', theme: 'dark' });
  });

  it('applies the vault\'s preferences once it is open, whatever the window started with', async () => {
    const backend = new FakeBackend(scenario('accounts'));
    backend.state.preferences = { language: 'de', theme: 'light' };
    render(App, { props: { backend, locale: 'en', intlLocale: 'en-GB' } });
    await waitFor(() => expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent(de.overview.title));
    expect(document.documentElement.dataset.theme).toBe('light');
  });
});

describe('two changes in a row', () => {
  it('keeps both, even when the second comes before the first is stored', async () => {
    const backend = new FakeBackend(scenario('accounts'));
    render(App, { props: { backend, locale: 'en', intlLocale: 'en-GB' } });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('nav-settings'));
    const theme = await screen.findByTestId('theme-select');
    const language = screen.getByTestId('language-select');
    (theme as HTMLSelectElement).value = 'dark';
    theme.dispatchEvent(new Event('change', { bubbles: true }));
    (language as HTMLSelectElement).value = 'de';
    language.dispatchEvent(new Event('change', { bubbles: true }));
    await waitFor(() => expect(backend.state.preferences).toEqual({ language: 'de', theme: 'dark' }));
  });
});
