import { describe, expect, it } from 'vitest';
import { resolveTanLocale, tanDictionaries } from './i18n';

function keyPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => keyPaths(v, prefix ? `${prefix}.${k}` : k));
}

describe('TAN strings', () => {
  it('have the same keys in German and English, none empty', () => {
    const { en, de } = tanDictionaries;
    expect(keyPaths(de).sort()).toEqual(keyPaths(en).sort());
    for (const dict of [en, de]) {
      for (const path of keyPaths(dict)) {
        const leaf = path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], dict);
        if (typeof leaf === 'string') expect(leaf.trim(), path).not.toBe('');
        else expect(typeof leaf, path).toBe('function');
      }
    }
    expect(de.flicker.faster).not.toBe(en.flicker.faster);
    expect(de.tanInput.tooLong(6)).toContain('6');
  });

  it('use an explicit locale, else the browser language outside the app', () => {
    expect(resolveTanLocale('de')).toBe('de');
    expect(['de', 'en']).toContain(resolveTanLocale());
  });
});
