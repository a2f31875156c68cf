import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FlickerCode } from '../../bindings';
import fixture from '../../lib/tan/fixtures/flicker-frames.json';
import { installFakeAnimationClock, type FakeAnimationClock } from '../../lib/tan/testing/animationClock';
import type { TanChallengeView } from '../../lib/tan/types';
import TanChallenge from './TanChallenge.svelte';

const SPEC_FLICKER: FlickerCode = {
  version: '1.4',
  start_code: { value: '2045201998', encoding: 'BCD' },
  control_bytes: [1],
  data_elements: [{ value: '12345678', encoding: 'BCD' }],
  render_hex: '0D85012045201998041234567855',
  luhn: '5',
  xor: '5',
};

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

let clock: FakeAnimationClock;

beforeEach(() => {
  localStorage.clear();
  clock = installFakeAnimationClock();
});
afterEach(() => vi.unstubAllGlobals());

function start(challenge: TanChallengeView, locale: 'en' | 'de' = 'en') {
  const onSubmit = vi.fn();
  const onCancel = vi.fn();
  const user = userEvent.setup();
  render(TanChallenge, { props: { challenge, onSubmit, onCancel, locale } });
  return { onSubmit, onCancel, user };
}

function bars(): string {
  return [...document.querySelectorAll<HTMLElement>('[data-bar-index]')]
    .map((bar) => (bar.dataset.on === 'true' ? '1' : '0'))
    .join('');
}

describe('TanChallenge', () => {
  it('text: shows the paragraphs and submits the TAN', async () => {
    const { onSubmit, user } = start({
      kind: 'text',
      text: 'Sie erhalten eine SMS.\n\nBitte geben Sie die TAN ein.',
      bankLabel: 'Demo Bank',
      procedureName: 'smsTAN',
      tanFormat: 'numeric',
      tanMaxLength: 6,
    });
    expect(screen.getByTestId('tan-challenge')).toHaveAttribute('data-kind', 'text');
    expect(screen.getByText('Demo Bank · smsTAN')).toBeInTheDocument();
    const text = screen.getByTestId('tan-text');
    expect(within(text).getAllByText(/.+/).map((p) => p.textContent)).toEqual([
      'Sie erhalten eine SMS.',
      'Bitte geben Sie die TAN ein.',
    ]);
    expect(screen.getByLabelText('TAN')).toHaveFocus();
    await user.type(screen.getByLabelText('TAN'), '123456{Enter}');
    expect(onSubmit).toHaveBeenCalledExactlyOnceWith('123456');
  });

  it('flicker: animates the code, switches to manual entry and back', async () => {
    const { onSubmit, user } = start({ kind: 'flicker', flicker: SPEC_FLICKER, text: 'Überweisung bestätigen' });
    const frames = fixture.codes.find((c) => c.render_hex === SPEC_FLICKER.render_hex)?.frames ?? [];
    expect(screen.getByText('Überweisung bestätigen')).toBeInTheDocument();
    expect(screen.getByRole('tab', { name: 'Flicker code' })).toHaveAttribute('aria-selected', 'true');
    expect(bars()).toBe(frames[0]);
    await clock.advance(500);
    expect(bars()).toBe(frames[5]);

    await user.click(screen.getByRole('tab', { name: 'Manual entry' }));
    expect(screen.queryByTestId('flicker-code')).toBeNull();
    expect(clock.pending()).toBe(0);
    const manual = screen.getByTestId('manual-entry');
    expect(within(manual).getByTestId('manual-start-code')).toHaveTextContent(/^Start code\s*2045201998$/);
    expect(within(manual).getByTestId('manual-de1')).toHaveTextContent(/^Data element 1\s*12345678$/);
    expect(within(manual).getByText('HHD 1.4')).toBeInTheDocument();

    // Arrow keys move between the tabs.
    screen.getByRole('tab', { name: 'Manual entry' }).focus();
    await user.keyboard('{ArrowLeft}');
    expect(screen.getByRole('tab', { name: 'Flicker code' })).toHaveFocus();
    expect(screen.getByTestId('flicker-code')).toBeInTheDocument();
    expect(bars()).toBe(frames[0]);

    await user.type(screen.getByLabelText('TAN'), '987654{Enter}');
    expect(onSubmit).toHaveBeenCalledExactlyOnceWith('987654');
  });

  it('flicker: a code that cannot be animated opens manual entry', () => {
    start({ kind: 'flicker', flicker: { ...SPEC_FLICKER, render_hex: 'XYZ' } }, 'de');
    expect(screen.getByRole('tab', { name: 'Flickercode' })).toBeDisabled();
    expect(screen.getByRole('tab', { name: 'Manuelle Eingabe' })).toHaveAttribute('aria-selected', 'true');
    expect(screen.getByTestId('manual-start-code')).toHaveTextContent(/^Start-Code\s*2045201998$/);
  });

  it('flicker: offers no QR code tab without a QR fallback', () => {
    start({ kind: 'flicker', flicker: SPEC_FLICKER });
    expect(screen.getAllByRole('tab').map((tab) => tab.textContent?.trim())).toEqual(['Flicker code', 'Manual entry']);
    expect(screen.queryByRole('tab', { name: 'QR code' })).toBeNull();
    expect(screen.queryByTestId('photo-image')).toBeNull();
  });

  it('flicker: shows the chipTAN-QR fallback in a third tab', async () => {
    const { user } = start({ kind: 'flicker', flicker: SPEC_FLICKER, qrFallback: { mime_type: 'image/png', image: PNG } });
    expect(screen.getAllByRole('tab').map((tab) => tab.textContent?.trim())).toEqual([
      'Flicker code',
      'Manual entry',
      'QR code',
    ]);
    expect(screen.queryByTestId('photo-image')).toBeNull();

    await user.click(screen.getByRole('tab', { name: 'QR code' }));
    expect(screen.getByRole('tab', { name: 'QR code' })).toHaveAttribute('aria-selected', 'true');
    expect(within(screen.getByTestId('photo-tan')).getByText(/chipTAN-QR/)).toHaveTextContent('For TAN generators that read chipTAN-QR codes');
    const image = screen.getByTestId('photo-image');
    expect(image).toHaveAttribute('src', `data:image/png;base64,${PNG}`);
    expect(image).toHaveAttribute('alt', 'chipTAN-QR code');
    expect(screen.queryByTestId('flicker-code')).toBeNull();

    // Arrow keys reach it too.
    await user.keyboard('{ArrowLeft}');
    expect(screen.getByRole('tab', { name: 'Manual entry' })).toHaveAttribute('aria-selected', 'true');
    await user.keyboard('{End}');
    expect(screen.getByRole('tab', { name: 'QR code' })).toHaveFocus();
  });

  it('flicker: the QR code tab is reachable when the code cannot be animated (German)', async () => {
    const { user } = start(
      { kind: 'flicker', flicker: { ...SPEC_FLICKER, render_hex: 'XYZ' }, qrFallback: { mime_type: 'image/png', image: PNG } },
      'de',
    );
    expect(screen.getByRole('tab', { name: 'Manuelle Eingabe' })).toHaveAttribute('aria-selected', 'true');
    await user.click(screen.getByRole('tab', { name: 'QR-Code' }));
    expect(within(screen.getByTestId('photo-tan')).getByText(/chipTAN-QR/)).toHaveTextContent('Für TAN-Generatoren, die chipTAN-QR-Codes lesen.');
    expect(screen.getByTestId('photo-image')).toHaveAttribute('src', `data:image/png;base64,${PNG}`);
  });

  it('photo: shows the image and the TAN field', () => {
    start({ kind: 'photo', photo: { mime_type: 'image/png', image: PNG }, text: 'Scan me' });
    expect(screen.getByTestId('photo-image')).toHaveAttribute('src', `data:image/png;base64,${PNG}`);
    expect(screen.getByText('Scan me')).toBeInTheDocument();
    expect(screen.getByLabelText('TAN')).toBeInTheDocument();
  });

  it('html: renders the text, never the markup', () => {
    start({
      kind: 'html',
      html: '<p>Bitte <b>bestätigen</b></p><img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><p>Zweite&nbsp;Zeile</p>',
    });
    const text = screen.getByTestId('tan-text');
    expect(text.querySelectorAll('p')).toHaveLength(2);
    expect([...text.querySelectorAll('p')].map((p) => p.textContent)).toEqual(['Bitte bestätigen', 'Zweite Zeile']);
    expect(text.querySelector('b, img, script')).toBeNull();
    expect(document.querySelector('img')).toBeNull();
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it('cancel calls onCancel without submitting', async () => {
    const { onSubmit, onCancel, user } = start({ kind: 'text', text: 'x' }, 'de');
    await user.click(screen.getByRole('button', { name: 'Abbrechen' }));
    expect(onCancel).toHaveBeenCalledOnce();
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it('does not submit an invalid TAN', async () => {
    const { onSubmit, user } = start({ kind: 'text', text: 'x', tanFormat: 'numeric', tanMaxLength: 6 });
    await user.type(screen.getByLabelText('TAN'), '12345678{Enter}');
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByRole('alert')).toHaveTextContent('at most 6');
  });
});
