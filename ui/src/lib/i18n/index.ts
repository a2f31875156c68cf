import { getContext, setContext } from 'svelte';
import type { AccountType, ErrorCode, KontorError } from '../../bindings';
import { formatDate } from '../format/date';
import { formatMoney } from '../format/money';
import { de } from './de';
import { en } from './en';
import type { FailureHelp, Locale, Messages, VaultFailureCode } from './types';

export type { Locale, Messages } from './types';

export const dictionaries: Record<Locale, Messages> = { en, de };

/** de, de-DE, de-AT, … → German; everything else → English. */
export function pickLocale(languages: readonly string[] | string | undefined): Locale {
  const first = Array.isArray(languages) ? languages[0] : languages;
  return typeof first === 'string' && /^de\b/i.test(first) ? 'de' : 'en';
}

export function detectLocale(): Locale {
  if (typeof navigator === 'undefined') return 'en';
  return pickLocale(navigator.languages?.length ? navigator.languages : navigator.language);
}

export interface I18n {
  locale: Locale;
  /** BCP 47 tag used for Intl formatting (de → de-DE, en → the OS' English variant or en-GB). */
  intl: string;
  t: Messages;
  money(amount: string, currency: string): string;
  date(isoDate: string): string;
  /** The user-facing sentence for an error: the dictionary's, else the backend's English message. */
  error(err: KontorError): string;
  vaultHelp(code: ErrorCode): FailureHelp;
  accountType(type: AccountType): string;
}

const VAULT_HELP_CODES = new Set<string>(Object.keys(en.vaultError.byCode));

export function createI18n(locale: Locale, intlLocale?: string): I18n {
  const t = dictionaries[locale];
  const intl = intlLocale ?? (locale === 'de' ? 'de-DE' : 'en-GB');
  return {
    locale,
    intl,
    t,
    money: (amount, currency) => formatMoney(amount, currency, intl),
    date: (isoDate) => formatDate(isoDate, intl),
    error: (err) => (t.errors as Partial<Record<string, string>>)[err.code] ?? err.message,
    vaultHelp: (code) =>
      VAULT_HELP_CODES.has(code) ? t.vaultError.byCode[code as VaultFailureCode] : t.vaultError.generic,
    accountType: (type) => t.overview.accountType[type] ?? t.overview.accountType.other,
  };
}

/** The Intl locale for English: keep the OS' English variant (en-US dates for US users). */
export function intlLocaleFor(locale: Locale): string {
  if (typeof navigator === 'undefined') return locale === 'de' ? 'de-DE' : 'en-GB';
  const lang = navigator.language || '';
  if (locale === 'de') return /^de\b/i.test(lang) ? lang : 'de-DE';
  return /^en\b/i.test(lang) ? lang : 'en-GB';
}

const KEY = Symbol('i18n');

/** What the context holds: the current dictionary, replaced when the user picks another language. */
export interface I18nBox {
  current: I18n;
}

export function setI18n(i18n: I18n | I18nBox): void {
  setContext(KEY, 'current' in i18n ? i18n : { current: i18n });
}

/** The dictionary in force when the calling component is created (App re-creates the page on a change). */
export function getI18n(): I18n {
  const box = getContext<I18nBox | undefined>(KEY);
  if (!box) throw new Error('i18n context missing: render inside <App>');
  return box.current;
}
