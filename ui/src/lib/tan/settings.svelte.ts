import {
  clampHz,
  HZ_MAX,
  HZ_MIN,
  HZ_STEP,
  loadSettings,
  saveSettings,
  snapWidth,
  WIDTH_MAX,
  WIDTH_MIN,
  WIDTH_STEP,
  defaultStorage,
} from './settings';

/** The flicker speed and width as reactive state; every change is clamped and written to storage at once. */
export class FlickerSettingsStore {
  hz = $state(0);
  width = $state(0);
  readonly #storage: Storage | null;

  constructor(storage: Storage | null = defaultStorage()) {
    this.#storage = storage;
    const initial = loadSettings(storage);
    this.hz = initial.hz;
    this.width = initial.width;
  }

  get canSlowDown(): boolean {
    return this.hz > HZ_MIN;
  }
  get canSpeedUp(): boolean {
    return this.hz < HZ_MAX;
  }
  get canNarrow(): boolean {
    return this.width > WIDTH_MIN;
  }
  get canWiden(): boolean {
    return this.width < WIDTH_MAX;
  }

  setHz(hz: number): void {
    this.hz = clampHz(hz);
    this.#save();
  }

  setWidth(width: number): void {
    this.width = snapWidth(width);
    this.#save();
  }

  faster(): void {
    this.setHz(this.hz + HZ_STEP);
  }
  slower(): void {
    this.setHz(this.hz - HZ_STEP);
  }
  wider(): void {
    this.setWidth(this.width + WIDTH_STEP);
  }
  narrower(): void {
    this.setWidth(this.width - WIDTH_STEP);
  }

  #save(): void {
    saveSettings({ hz: this.hz, width: this.width }, this.#storage);
  }
}
