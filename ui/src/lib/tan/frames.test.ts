import { describe, expect, it } from 'vitest';
import fixture from './fixtures/flicker-frames.json';
import { FlickerClock, FlickerHexError, flickerFrames, frameIndexAt, frameToString, SYNC_PREFIX } from './frames';

const codes: { name: string; render_hex: string; frames: string[] }[] = fixture.codes;

describe('flickerFrames', () => {
  it('fixture holds the tan.md §3.2 example and the short code', () => {
    const hexes = codes.map((c) => c.render_hex);
    expect(hexes).toContain('0D85012045201998041234567855');
    expect(hexes).toContain('058201100F40');
  });

  it.each(codes.map((c) => [c.render_hex, c.frames] as const))('%s equals the fixture', (hex, expected) => {
    expect(flickerFrames(hex).map(frameToString)).toEqual(expected);
  });

  it('gives 2·(n+4) frames with the clock alternating white/black', () => {
    const frames = flickerFrames('0D85012045201998041234567855');
    expect(frames).toHaveLength(64);
    frames.forEach((frame, i) => expect(frame[0]).toBe(i % 2 === 0));
  });

  it('sends the sync prefix as F, 0, F, F with bits 0..3 on bars 1..4', () => {
    expect(SYNC_PREFIX).toBe('0FFF');
    const strings = flickerFrames('01').map(frameToString);
    expect(strings.slice(0, 8)).toEqual(['11111', '01111', '10000', '00000', '11111', '01111', '11111', '01111']);
    // 0x01: low nibble 1 (bar 1 = bit 0) first, then 0.
    expect(strings.slice(8)).toEqual(['11000', '01000', '10000', '00000']);
    expect(flickerFrames('08').map(frameToString).slice(8, 9)).toEqual(['10001']);
  });

  it('ignores case and surrounding whitespace', () => {
    expect(flickerFrames(' 058201100f40\n')).toEqual(flickerFrames('058201100F40'));
  });

  it.each(['', '   ', '0G', '123', '12 34', '0x12'])('rejects %j', (hex) => {
    expect(() => flickerFrames(hex)).toThrow(FlickerHexError);
  });
});

describe('frameIndexAt', () => {
  it('is floor(elapsed·hz/1000) mod count', () => {
    expect(frameIndexAt(0, 10, 64)).toBe(0);
    expect(frameIndexAt(99.9, 10, 64)).toBe(0);
    expect(frameIndexAt(100, 10, 64)).toBe(1);
    expect(frameIndexAt(6_399, 10, 64)).toBe(63);
    expect(frameIndexAt(6_400, 10, 64)).toBe(0);
    expect(frameIndexAt(1_000, 40, 64)).toBe(40);
    expect(frameIndexAt(500, 2, 32)).toBe(1);
  });

  it('does not drift over long runs, whatever the callback jitter', () => {
    // A day at 60 fps with irregular callbacks: the frame depends only on the elapsed time.
    const day = 24 * 3600 * 1000;
    expect(frameIndexAt(day, 10, 64)).toBe((day / 100) % 64);
    expect(frameIndexAt(day + 150, 10, 64)).toBe((day / 100 + 1) % 64);
    expect(frameIndexAt(day, 7, 32)).toBe(Math.floor((day * 7) / 1000) % 32);

    let t = 0;
    let ticks = 0;
    const jitter = [16.7, 16.6, 33.4, 8.1, 50, 16.7, 0.5];
    while (t < 3_600_000) {
      t += jitter[ticks % jitter.length] ?? 16.7;
      ticks++;
      if (ticks % 9973 === 0) expect(frameIndexAt(t, 13, 64)).toBe(Math.floor((t * 13) / 1000) % 64);
    }
    // Counting ticks would be far off after an hour; elapsed time is exact.
    expect(frameIndexAt(t, 10, 64)).toBe(Math.floor(t / 100) % 64);
  });

  it('is 0 for nonsense input', () => {
    expect(frameIndexAt(-5, 10, 64)).toBe(0);
    expect(frameIndexAt(Number.NaN, 10, 64)).toBe(0);
    expect(frameIndexAt(1000, 0, 64)).toBe(0);
    expect(frameIndexAt(1000, 10, 0)).toBe(0);
  });
});

describe('FlickerClock', () => {
  it('runs from frame 0 at its origin', () => {
    const clock = new FlickerClock(64, 10, 1_000);
    expect(clock.frameAt(1_000)).toBe(0);
    expect(clock.frameAt(1_250)).toBe(2);
    expect(clock.frameAt(1_000 + 6_400)).toBe(0);
  });

  it('holds the frame while paused and continues from it', () => {
    const clock = new FlickerClock(64, 10, 0);
    clock.pause(350);
    expect(clock.running).toBe(false);
    expect(clock.frameAt(350)).toBe(3);
    expect(clock.frameAt(99_999)).toBe(3);
    clock.play(10_000);
    expect(clock.frameAt(10_000)).toBe(3);
    expect(clock.frameAt(10_100)).toBe(4);
  });

  it('changes speed without jumping', () => {
    const clock = new FlickerClock(64, 10, 0);
    clock.setHz(20, 530);
    expect(clock.frameAt(530)).toBe(5);
    expect(clock.frameAt(580)).toBe(6);
    expect(clock.hz).toBe(20);
  });

  it('restarts at frame 0, running or paused', () => {
    const clock = new FlickerClock(64, 10, 0);
    clock.restart(720);
    expect(clock.frameAt(720)).toBe(0);
    expect(clock.frameAt(820)).toBe(1);
    clock.pause(900);
    clock.restart(1_000);
    expect(clock.frameAt(5_000)).toBe(0);
  });
});
