/**
 * The chipTAN flicker animation's frames and timing (shared/docs/tan.md §4).
 *
 * Mirrors `crates/core/src/tan/frames.rs` exactly; `fixtures/flicker-frames.json` pins both to the same
 * frames (see `frames.test.ts` and `crates/core/tests/tan_ui_frames.rs`).
 */

/** Sent before every loop of the code; goes out as the nibbles F, 0, F, F. */
export const SYNC_PREFIX = '0FFF';

/** Five bars, `true` = white. `[0]` is the clock, `[1]`..`[4]` carry bits 0 (value 1) to 3 (value 8). */
export type Frame = readonly [clock: boolean, bit0: boolean, bit1: boolean, bit2: boolean, bit3: boolean];

export class FlickerHexError extends Error {
  override name = 'FlickerHexError';
}

function frame(clock: boolean, nibble: number): Frame {
  return [clock, (nibble & 1) !== 0, (nibble & 2) !== 0, (nibble & 4) !== 0, (nibble & 8) !== 0];
}

/**
 * The frames of one loop for a rendered code (without the sync prefix, which this adds): byte by byte, low
 * nibble first, each nibble twice (clock white, then black). A code of n hex characters gives 2·(n+4) frames.
 * Letter case does not matter; surrounding whitespace is ignored. Throws {@link FlickerHexError} for empty,
 * non-hex or odd-length input, as the Rust `flicker_frames` returns an error.
 */
export function flickerFrames(renderHex: string): Frame[] {
  const hex = renderHex.trim();
  if (hex.length === 0) throw new FlickerHexError('empty flicker code');
  const bad = hex.search(/[^0-9a-fA-F]/);
  if (bad >= 0) throw new FlickerHexError(`not hex at position ${bad}`);
  if (hex.length % 2 !== 0) throw new FlickerHexError(`odd length ${hex.length}`);

  const stream = SYNC_PREFIX + hex;
  const frames: Frame[] = [];
  for (let i = 0; i < stream.length; i += 2) {
    const high = parseInt(stream.charAt(i), 16);
    const low = parseInt(stream.charAt(i + 1), 16);
    for (const nibble of [low, high]) {
      frames.push(frame(true, nibble), frame(false, nibble));
    }
  }
  return frames;
}

/** `10111` for clock white and nibble 0xF, like the Rust `Display` of `FlickerFrame`. */
export function frameToString(frame: Frame): string {
  return frame.map((on) => (on ? '1' : '0')).join('');
}

/**
 * Which frame is on screen `elapsedMs` after frame 0 appeared, at `hz` frames per second:
 * floor(elapsed · hz / 1000) mod frameCount. Derived from the elapsed time alone, never from counted ticks, so
 * late or skipped animation callbacks cannot make the animation drift.
 */
export function frameIndexAt(elapsedMs: number, hz: number, frameCount: number): number {
  if (!(frameCount > 0) || !(hz > 0) || !(elapsedMs > 0) || !Number.isFinite(elapsedMs)) return 0;
  return Math.floor((elapsedMs * hz) / 1000) % frameCount;
}

/**
 * The animation's clock: which frame to draw at a time `now` (ms, e.g. `performance.now()` or the
 * `requestAnimationFrame` timestamp). Pausing, resuming and changing the speed re-anchor it at the frame on screen,
 * so the picture never jumps; between those events the frame comes from {@link frameIndexAt}.
 */
export class FlickerClock {
  #frameCount: number;
  #hz: number;
  /** The frame shown at `#origin`. */
  #baseFrame = 0;
  #origin: number;
  #running: boolean;

  constructor(frameCount: number, hz: number, now: number, running = true) {
    this.#frameCount = frameCount;
    this.#hz = hz;
    this.#origin = now;
    this.#running = running;
  }

  get running(): boolean {
    return this.#running;
  }

  get hz(): number {
    return this.#hz;
  }

  frameAt(now: number): number {
    if (this.#frameCount <= 0) return 0;
    if (!this.#running) return this.#baseFrame;
    return (this.#baseFrame + frameIndexAt(now - this.#origin, this.#hz, this.#frameCount)) % this.#frameCount;
  }

  #anchor(now: number): void {
    this.#baseFrame = this.frameAt(now);
    this.#origin = now;
  }

  pause(now: number): void {
    if (!this.#running) return;
    this.#anchor(now);
    this.#running = false;
  }

  play(now: number): void {
    if (this.#running) return;
    this.#origin = now;
    this.#running = true;
  }

  /** Back to frame 0 (the start of the sync prefix), keeping the running state. */
  restart(now: number): void {
    this.#baseFrame = 0;
    this.#origin = now;
  }

  setHz(hz: number, now: number): void {
    if (hz === this.#hz) return;
    this.#anchor(now);
    this.#hz = hz;
  }
}
