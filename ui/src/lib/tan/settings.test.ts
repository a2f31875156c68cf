import { beforeEach, describe, expect, it } from 'vitest';
import {
  clampHz,
  HZ_DEFAULT,
  loadSettings,
  parseSettings,
  saveSettings,
  snapWidth,
  STORAGE_KEY,
  WIDTH_DEFAULT,
  WIDTH_MAX,
  WIDTH_MIN,
} from './settings';
import { FlickerSettingsStore } from './settings.svelte';

beforeEach(() => localStorage.clear());

describe('limits', () => {
  it('default to 10 Hz and about 60 mm on the 8 px grid', () => {
    expect(HZ_DEFAULT).toBe(10);
    expect(WIDTH_DEFAULT).toBe(224);
    expect(WIDTH_DEFAULT % 8).toBe(0);
  });

  it('clamp the speed to whole Hz in 2–40', () => {
    expect(clampHz(1)).toBe(2);
    expect(clampHz(41)).toBe(40);
    expect(clampHz(12.4)).toBe(12);
    expect(clampHz(-3)).toBe(2);
  });

  it('snap the width to 8 px steps in 120–480', () => {
    expect(snapWidth(100)).toBe(WIDTH_MIN);
    expect(snapWidth(999)).toBe(WIDTH_MAX);
    expect(snapWidth(227)).toBe(224);
    expect(snapWidth(229)).toBe(232);
  });
});

describe('stored values', () => {
  it('fall back per field when missing, malformed or out of range', () => {
    expect(parseSettings(null)).toEqual({ hz: 10, width: 224 });
    expect(parseSettings('not json')).toEqual({ hz: 10, width: 224 });
    expect(parseSettings('[1,2]')).toEqual({ hz: 10, width: 224 });
    expect(parseSettings('{"hz":"12","width":300}')).toEqual({ hz: 10, width: 304 });
    expect(parseSettings('{"hz":99,"width":"x"}')).toEqual({ hz: 10, width: 224 });
    expect(parseSettings('{"hz":1,"width":1e9}')).toEqual({ hz: 10, width: 224 });
    expect(parseSettings('{"hz":14,"width":256}')).toEqual({ hz: 14, width: 256 });
  });

  it('round-trip through localStorage', () => {
    saveSettings({ hz: 17, width: 300 });
    expect(localStorage.getItem(STORAGE_KEY)).toBe('{"hz":17,"width":304}');
    expect(loadSettings()).toEqual({ hz: 17, width: 304 });
  });

  it('survive a storage that throws', () => {
    const broken = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('full');
      },
    } as unknown as Storage;
    expect(loadSettings(broken)).toEqual({ hz: 10, width: 224 });
    expect(() => saveSettings({ hz: 12, width: 200 }, broken)).not.toThrow();
  });
});

describe('FlickerSettingsStore', () => {
  it('steps, clamps and persists every change', () => {
    const store = new FlickerSettingsStore(localStorage);
    expect([store.hz, store.width]).toEqual([10, 224]);
    store.faster();
    store.wider();
    expect([store.hz, store.width]).toEqual([11, 232]);
    expect(new FlickerSettingsStore(localStorage).hz).toBe(11);
    expect(new FlickerSettingsStore(localStorage).width).toBe(232);

    for (let i = 0; i < 100; i++) store.slower();
    expect(store.hz).toBe(2);
    expect(store.canSlowDown).toBe(false);
    for (let i = 0; i < 100; i++) store.wider();
    expect(store.width).toBe(480);
    expect(store.canWiden).toBe(false);
    expect(JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}')).toEqual({ hz: 2, width: 480 });
  });

  it('reads a validated stored value', () => {
    localStorage.setItem(STORAGE_KEY, '{"hz":25,"width":-4}');
    const store = new FlickerSettingsStore(localStorage);
    expect([store.hz, store.width]).toEqual([25, 224]);
  });
});
