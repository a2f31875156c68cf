import type { LanguagePreference, Preferences, ThemePreference } from '../../bindings';
import { pickLocale, type Locale } from '../i18n';

/**
 * Language and theme as the user chose them (Settings; stored in the vault) or, for `system`, as the OS
 * says. The choice is also cached in localStorage, so the window starts in the right language and theme
 * before the vault is open; the vault's copy wins once it is read.
 */
export type Theme = 'light' | 'dark';

const CACHE_KEY = 'kontor.preferences';

export const DEFAULT_PREFERENCES: Preferences = { language: 'system', theme: 'system' };

export function resolveLocale(language: LanguagePreference, osLanguages: readonly string[]): Locale {
  return language === 'system' ? pickLocale(osLanguages) : language;
}

export function resolveTheme(theme: ThemePreference, osPrefersDark: boolean): Theme {
  return theme === 'system' ? (osPrefersDark ? 'dark' : 'light') : theme;
}

function isPreferences(value: unknown): value is Preferences {
  if (typeof value !== 'object' || value === null) return false;
  const { language, theme } = value as Record<string, unknown>;
  return ['system', 'de', 'en'].includes(language as string) && ['system', 'light', 'dark'].includes(theme as string);
}

export function cachedPreferences(storage: Pick<Storage, 'getItem'> | undefined): Preferences {
  try {
    const parsed: unknown = JSON.parse(storage?.getItem(CACHE_KEY) ?? 'null');
    return isPreferences(parsed) ? parsed : DEFAULT_PREFERENCES;
  } catch {
    return DEFAULT_PREFERENCES;
  }
}

export function cachePreferences(storage: Pick<Storage, 'setItem'> | undefined, preferences: Preferences): void {
  try {
    storage?.setItem(CACHE_KEY, JSON.stringify(preferences));
  } catch {
    // a full or disabled storage only costs the first paint its language
  }
}

function osPrefersDark(): boolean {
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches;
}

let unfollow: (() => void) | null = null;

/** Sets `data-theme` on the document; for `system`, keeps following the OS while it changes. */
export function applyTheme(theme: ThemePreference, root: HTMLElement = document.documentElement): Theme {
  unfollow?.();
  unfollow = null;
  const resolved = resolveTheme(theme, osPrefersDark());
  root.dataset.theme = resolved;
  if (theme === 'system' && typeof matchMedia === 'function') {
    const query = matchMedia('(prefers-color-scheme: dark)');
    const follow = (event: MediaQueryListEvent) => (root.dataset.theme = event.matches ? 'dark' : 'light');
    query.addEventListener('change', follow);
    unfollow = () => query.removeEventListener('change', follow);
  }
  return resolved;
}
