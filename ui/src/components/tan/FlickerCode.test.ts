/**
 * The issue's UI test: the frames the flicker component actually draws. A fake clock drives
 * requestAnimationFrame and performance.now(); after each step the five bars' DOM state (data-on) is read and
 * compared with the shared fixture, the same frames the Rust core is pinned to.
 */
import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { tick } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import fixture from '../../lib/tan/fixtures/flicker-frames.json';
import { STORAGE_KEY } from '../../lib/tan/settings';
import { FlickerSettingsStore } from '../../lib/tan/settings.svelte';
import { installFakeAnimationClock, type FakeAnimationClock } from '../../lib/tan/testing/animationClock';
import FlickerCode from './FlickerCode.svelte';

const SHORT = '058201100F40';
const SPEC = '0D85012045201998041234567855';

function expectedFrames(hex: string): string[] {
  const code = fixture.codes.find((c) => c.render_hex === hex);
  if (!code) throw new Error(`fixture lacks ${hex}`);
  return code.frames;
}

/** The bars as drawn: "1" for each bar whose DOM says it is on, clock first. */
function sampleBars(): string {
  const bars = [...document.querySelectorAll<HTMLElement>('[data-bar-index]')];
  expect(bars.map((bar) => bar.dataset.barIndex)).toEqual(['0', '1', '2', '3', '4']);
  return bars.map((bar) => (bar.dataset.on === 'true' ? '1' : bar.dataset.on === 'false' ? '0' : '?')).join('');
}

function graphic(): HTMLElement {
  return screen.getByTestId('flicker-graphic');
}

let clock: FakeAnimationClock;

beforeEach(() => {
  localStorage.clear();
  clock = installFakeAnimationClock();
});

afterEach(() => {
  vi.unstubAllGlobals();
});

async function mount(hex: string, hz = 10, autostart = true) {
  localStorage.setItem(STORAGE_KEY, JSON.stringify({ hz, width: 224 }));
  const settings = new FlickerSettingsStore(localStorage);
  const result = render(FlickerCode, { props: { renderHex: hex, settings, autostart, locale: 'en' } });
  await tick();
  return { ...result, settings };
}

describe('FlickerCode draws the fixture frames', () => {
  it.each([SHORT, SPEC])('%s: frame by frame at 10 Hz, two full loops', async (hex) => {
    await mount(hex, 10);
    const expected = expectedFrames(hex);
    const drawn: string[] = [sampleBars()];
    for (let step = 1; step < expected.length * 2; step++) {
      await clock.advance(100);
      drawn.push(sampleBars());
    }
    expect(drawn).toEqual([...expected, ...expected]);
    expect(graphic()).toHaveAttribute('data-frame-count', String(expected.length));
  });

  it('follows elapsed time at 60 fps with jitter, without drift', async () => {
    await mount(SHORT, 10);
    const expected = expectedFrames(SHORT);
    const start = clock.now;
    const steps = [16.7, 16.6, 16.7, 33.3, 4.2, 16.7, 50.1];
    for (let i = 0; i < 3_000; i++) {
      await clock.advance(steps[i % steps.length] ?? 16.7);
      if (i % 97 === 0) {
        const index = Math.floor(((clock.now - start) * 10) / 1000) % expected.length;
        expect(sampleBars()).toBe(expected[index]);
      }
    }
    // About 1 minute of frames later, still exactly on the elapsed-time frame.
    const index = Math.floor(((clock.now - start) * 10) / 1000) % expected.length;
    expect(graphic()).toHaveAttribute('data-frame-index', String(index));
    expect(sampleBars()).toBe(expected[index]);
  });

  it('skips frames rather than slowing down when callbacks come late', async () => {
    await mount(SHORT, 10);
    const expected = expectedFrames(SHORT);
    await clock.advance(750);
    expect(sampleBars()).toBe(expected[7]);
  });
});

describe('FlickerCode controls', () => {
  it('pauses on the current frame and continues from it', async () => {
    const user = userEvent.setup();
    await mount(SHORT, 10);
    const expected = expectedFrames(SHORT);
    await clock.advance(300);
    expect(sampleBars()).toBe(expected[3]);

    await user.click(screen.getByRole('button', { name: 'Pause' }));
    expect(graphic()).toHaveAttribute('data-running', 'false');
    expect(clock.pending()).toBe(0);
    await clock.advance(5_000);
    expect(sampleBars()).toBe(expected[3]);

    await user.click(screen.getByRole('button', { name: 'Play' }));
    await clock.advance(0);
    expect(sampleBars()).toBe(expected[3]);
    await clock.advance(100);
    expect(sampleBars()).toBe(expected[4]);
  });

  it('restarts at frame 0 (the sync prefix)', async () => {
    const user = userEvent.setup();
    await mount(SPEC, 10);
    const expected = expectedFrames(SPEC);
    await clock.advance(1_300);
    expect(graphic()).toHaveAttribute('data-frame-index', '13');
    await user.click(screen.getByRole('button', { name: /restart/i }));
    expect(graphic()).toHaveAttribute('data-frame-index', '0');
    expect(sampleBars()).toBe(expected[0]);
    await clock.advance(100);
    expect(sampleBars()).toBe(expected[1]);
  });

  it('changes speed without jumping and remembers it', async () => {
    const user = userEvent.setup();
    await mount(SHORT, 10);
    const expected = expectedFrames(SHORT);
    await clock.advance(200);
    for (let i = 0; i < 10; i++) await user.click(screen.getByRole('button', { name: 'Faster' }));
    expect(screen.getByTestId('flicker-hz')).toHaveTextContent('20 Hz');
    expect(sampleBars()).toBe(expected[2]);
    await clock.advance(50);
    expect(sampleBars()).toBe(expected[3]);
    expect(JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}')).toMatchObject({ hz: 20 });

    for (let i = 0; i < 50; i++) await user.click(screen.getByRole('button', { name: 'Faster' }));
    expect(screen.getByTestId('flicker-hz')).toHaveTextContent('40 Hz');
    expect(screen.getByRole('button', { name: 'Faster' })).toBeDisabled();
  });

  it('changes the width in 8 px steps and keeps bars, gaps and markers in proportion', async () => {
    const user = userEvent.setup();
    await mount(SHORT, 10);
    const bar = (i: number) => document.querySelector<HTMLElement>(`[data-bar-index="${i}"]`);
    const px = (value: string | undefined) => Number.parseInt(value ?? '', 10);
    // 224 px: pitch 45, bar 34 (¾ pitch), gap 11.
    expect(graphic().style.width).toBe('225px');
    expect(px(bar(0)?.style.width)).toBe(34);
    expect(px(bar(1)?.style.left) - px(bar(0)?.style.left)).toBe(45);
    expect(document.querySelectorAll('.marker')).toHaveLength(2);

    await user.click(screen.getByRole('button', { name: 'Wider' }));
    expect(JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}')).toMatchObject({ width: 232 });
    expect(px(bar(1)?.style.left) - px(bar(0)?.style.left)).toBe(46);
    await user.click(screen.getByRole('button', { name: 'Narrower' }));
    await user.click(screen.getByRole('button', { name: 'Narrower' }));
    expect(JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}')).toMatchObject({ width: 216 });
  });

  it('can start paused and is operable by keyboard', async () => {
    const user = userEvent.setup();
    await mount(SHORT, 10, false);
    await clock.advance(1_000);
    expect(graphic()).toHaveAttribute('data-frame-index', '0');
    await user.tab();
    await user.tab();
    await user.tab();
    await user.tab();
    await user.tab();
    expect(screen.getByRole('button', { name: 'Play' })).toHaveFocus();
    await user.keyboard('{Enter}');
    await clock.advance(200);
    expect(graphic()).toHaveAttribute('data-frame-index', '2');
  });

  it('shows a notice instead of bars for a code that is not hex', async () => {
    await mount('0G12', 10);
    expect(screen.getByRole('alert')).toHaveTextContent(/cannot be shown/);
    expect(document.querySelectorAll('[data-bar-index]')).toHaveLength(0);
    expect(clock.pending()).toBe(0);
  });

  it('stops asking for animation frames when removed', async () => {
    const { unmount } = await mount(SHORT, 10);
    await clock.advance(100);
    expect(clock.pending()).toBe(1);
    unmount();
    expect(clock.pending()).toBe(0);
  });
});
