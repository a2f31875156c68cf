import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../backend/errors';
import { de } from './de';
import { en } from './en';
import { createI18n, pickLocale } from './index';
import type { Messages } from './types';

/** Every key path of a dictionary, e.g. "welcome.title", "errors.VaultBusy". */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => keyPaths(v, prefix ? `${prefix}.${k}` : k));
}

function leaves(value: unknown): unknown[] {
  if (typeof value !== 'object' || value === null) return [value];
  return Object.values(value).flatMap(leaves);
}

describe('dictionaries', () => {
  it('have identical keys', () => {
    const enKeys = keyPaths(en).sort();
    const deKeys = keyPaths(de).sort();
    expect(enKeys.length).toBeGreaterThan(100);
    expect(deKeys).toEqual(enKeys);
  });

  it('translate every ErrorCode', () => {
    expect(ERROR_CODES.length).toBeGreaterThanOrEqual(29);
    for (const dict of [en, de]) {
      expect(Object.keys(dict.errors).sort()).toEqual([...ERROR_CODES].sort());
    }
  });

  it('have no empty strings, and German differs from English', () => {
    for (const leaf of [...leaves(en), ...leaves(de)]) {
      if (typeof leaf === 'string') expect(leaf.trim()).not.toBe('');
      else expect(typeof leaf).toBe('function');
    }
    expect(de.welcome.title).not.toBe(en.welcome.title);
    expect(de.errors.VaultBusy).not.toBe(en.errors.VaultBusy);
  });

  it('are checked by the type system', () => {
    const { app: _app, ...withoutApp } = en;
    // @ts-expect-error a dictionary missing a section does not compile
    const missing: Messages = withoutApp;
    const { Internal: _internal, ...someErrors } = en.errors;
    // @ts-expect-error the error messages must cover every ErrorCode
    const partial: Messages['errors'] = someErrors;
    // @ts-expect-error an unknown key does not compile either
    const extra: Messages = { ...en, extra: 'x' } satisfies Messages;
    expect([missing, partial, extra]).toHaveLength(3);
  });
});

describe('locale choice', () => {
  it('picks German for de*, English otherwise', () => {
    expect(pickLocale('de-DE')).toBe('de');
    expect(pickLocale(['de-AT', 'en-US'])).toBe('de');
    expect(pickLocale('de')).toBe('de');
    expect(pickLocale('en-US')).toBe('en');
    expect(pickLocale(['fr-FR', 'de-DE'])).toBe('en');
    expect(pickLocale('dense')).toBe('en');
    expect(pickLocale(undefined)).toBe('en');
  });

  it('falls back to the backend message for a code it does not know', () => {
    const i18n = createI18n('de');
    expect(i18n.error({ code: 'VaultBusy', message: 'busy' })).toBe(de.errors.VaultBusy);
    const unknown = { code: 'SomethingNew', message: 'Newer backend says hi.' } as unknown as Parameters<
      typeof i18n.error
    >[0];
    expect(i18n.error(unknown)).toBe('Newer backend says hi.');
  });
});
