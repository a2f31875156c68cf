import { markStartup } from './lib/app/startupMarks';
import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { applyTheme, cachedPreferences, resolveLocale } from './lib/app/appearance';
import { createBackend } from './lib/backend';
import { detectLocale } from './lib/i18n';

markStartup('script');
const target = document.getElementById('app');
if (!target) throw new Error('#app missing from index.html');

// The last choice the vault held, so the first paint is already in the user's language and theme.
const preferences = cachedPreferences(globalThis.localStorage);
const systemLocale = detectLocale();
const locale = resolveLocale(preferences.language, [systemLocale]);
document.documentElement.lang = locale;
applyTheme(preferences.theme);

const backend = await createBackend();
markStartup('mount');
mount(App, { target, props: { backend, locale, systemLocale, preferences } });
markStartup('mounted');
