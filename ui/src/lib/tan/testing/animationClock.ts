/**
 * A fake clock for animation tests: `performance.now()` and `requestAnimationFrame` under the test's control.
 * `advance(ms)` moves time on and runs the callbacks that were waiting, as the browser's next rendering frame
 * would, passing the new time as the rAF timestamp. Call `vi.unstubAllGlobals()` after each test.
 */
import { tick } from 'svelte';
import { vi } from 'vitest';

export interface FakeAnimationClock {
  readonly now: number;
  /** Animation-frame callbacks waiting to run. */
  pending(): number;
  /** Moves the clock on by `ms` and runs one rendering frame at the new time. */
  advance(ms: number): Promise<void>;
}

export function installFakeAnimationClock(start = 10_000): FakeAnimationClock {
  let now = start;
  let nextId = 1;
  const callbacks = new Map<number, FrameRequestCallback>();
  vi.spyOn(performance, 'now').mockImplementation(() => now);
  vi.stubGlobal('requestAnimationFrame', (callback: FrameRequestCallback): number => {
    const id = nextId++;
    callbacks.set(id, callback);
    return id;
  });
  vi.stubGlobal('cancelAnimationFrame', (id: number): void => {
    callbacks.delete(id);
  });
  return {
    get now() {
      return now;
    },
    pending: () => callbacks.size,
    async advance(ms: number) {
      now += ms;
      const due = [...callbacks.values()];
      callbacks.clear();
      for (const callback of due) callback(now);
      await tick();
    },
  };
}
