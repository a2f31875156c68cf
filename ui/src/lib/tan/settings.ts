/**
 * The flicker code's speed and width, remembered per user in localStorage (tan.md §4.2, §4.3).
 *
 * Stored values are validated on load: anything that is not a number in range (a hand-edited or outdated entry)
 * falls back to the default for that field alone.
 */

/** Frames per second, as hbci4java/Hibiscus; the spec allows 2–20, many generators manage more. */
export const HZ_MIN = 2;
export const HZ_MAX = 40;
export const HZ_STEP = 1;
export const HZ_DEFAULT = 10;

/** Width of the five-bar graphic in CSS px, changed in steps of 8 px (Hibiscus' −/+ step). */
export const WIDTH_MIN = 120;
export const WIDTH_MAX = 480;
export const WIDTH_STEP = 8;
/** About 60 mm at 96 dpi (226.8 px), the width of Reiner SCT devices, rounded to the step. */
export const WIDTH_DEFAULT = snapWidth((60 / 25.4) * 96);

export const STORAGE_KEY = 'kontor.tan.flicker';

export interface FlickerSettings {
  hz: number;
  width: number;
}

export const DEFAULT_SETTINGS: Readonly<FlickerSettings> = Object.freeze({ hz: HZ_DEFAULT, width: WIDTH_DEFAULT });

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** A whole number of Hz within 2–40. */
export function clampHz(hz: number): number {
  return clamp(Math.round(hz), HZ_MIN, HZ_MAX);
}

/** The nearest width on the 8 px grid, within 120–480. */
export function snapWidth(width: number): number {
  return clamp(Math.round(width / WIDTH_STEP) * WIDTH_STEP, WIDTH_MIN, WIDTH_MAX);
}

function validNumber(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
}

/** Reads a stored JSON value; an entry out of range or of the wrong type is replaced by its default. */
export function parseSettings(raw: string | null): FlickerSettings {
  if (raw === null) return { ...DEFAULT_SETTINGS };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
  const record = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  return {
    hz: validNumber(record.hz, HZ_MIN, HZ_MAX) ? clampHz(record.hz) : HZ_DEFAULT,
    width: validNumber(record.width, WIDTH_MIN, WIDTH_MAX) ? snapWidth(record.width) : WIDTH_DEFAULT,
  };
}

/** The browser's localStorage, or null where it is missing or blocked. */
export function defaultStorage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

export function loadSettings(storage: Storage | null = defaultStorage()): FlickerSettings {
  try {
    return parseSettings(storage?.getItem(STORAGE_KEY) ?? null);
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
}

export function saveSettings(settings: FlickerSettings, storage: Storage | null = defaultStorage()): void {
  const clean = { hz: clampHz(settings.hz), width: snapWidth(settings.width) };
  try {
    storage?.setItem(STORAGE_KEY, JSON.stringify(clean));
  } catch {
    // Storage full or blocked: the setting still applies for this session.
  }
}
