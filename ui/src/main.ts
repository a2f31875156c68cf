import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { createBackend } from './lib/backend';
import { detectLocale } from './lib/i18n';

const target = document.getElementById('app');
if (!target) throw new Error('#app missing from index.html');

const locale = detectLocale();
document.documentElement.lang = locale;

const backend = await createBackend();
mount(App, { target, props: { backend, locale } });
