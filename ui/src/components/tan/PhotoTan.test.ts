import { fireEvent, render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import PhotoTan from './PhotoTan.svelte';

/** A 1×1 PNG. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

function image(): HTMLImageElement {
  return screen.getByTestId('photo-image') as HTMLImageElement;
}

/** jsdom does not decode images: report a natural width and fire load. */
async function loaded(naturalWidth: number) {
  Object.defineProperty(image(), 'naturalWidth', { value: naturalWidth, configurable: true });
  await fireEvent.load(image());
}

describe('PhotoTan', () => {
  it('shows the image as a data URI, pixelated, scaled to at least 200 px', async () => {
    render(PhotoTan, { props: { photo: { mime_type: 'image/png', image: PNG }, locale: 'en' } });
    expect(image()).toHaveAttribute('src', `data:image/png;base64,${PNG}`);
    expect(image()).toHaveAttribute('alt', 'photoTAN image');
    expect(image()).toHaveClass('pixelated');
    await loaded(40);
    expect(image().style.width).toBe('200px');
    expect(screen.getByTestId('photo-zoom')).toHaveTextContent('100 %');
  });

  it('zooms in, out and back with buttons, within limits', async () => {
    const user = userEvent.setup();
    render(PhotoTan, { props: { photo: { mime_type: 'image/png', image: PNG }, locale: 'en' } });
    await loaded(300);
    await user.click(screen.getByRole('button', { name: 'Zoom in' }));
    expect(image().style.width).toBe('450px');
    expect(screen.getByTestId('photo-zoom')).toHaveTextContent('150 %');
    for (let i = 0; i < 10; i++) await user.click(screen.getByRole('button', { name: 'Zoom in' }));
    expect(image().style.width).toBe('1200px');
    expect(screen.getByRole('button', { name: 'Zoom in' })).toBeDisabled();
    await user.click(screen.getByRole('button', { name: 'Original size' }));
    expect(image().style.width).toBe('300px');
    await user.click(screen.getByRole('button', { name: 'Zoom out' }));
    await user.click(screen.getByRole('button', { name: 'Zoom out' }));
    await user.click(screen.getByRole('button', { name: 'Zoom out' }));
    expect(image().style.width).toBe('150px');
    expect(screen.getByRole('button', { name: 'Zoom out' })).toBeDisabled();
  });

  it('zooms with +, − and 0 on the focused image area', async () => {
    const user = userEvent.setup();
    render(PhotoTan, { props: { photo: { mime_type: 'image/png', image: PNG }, locale: 'de' } });
    await loaded(300);
    await user.tab();
    expect(screen.getByTestId('photo-viewport')).toHaveFocus();
    await user.keyboard('++');
    expect(image().style.width).toBe('600px');
    await user.keyboard('-');
    expect(image().style.width).toBe('450px');
    await user.keyboard('0');
    expect(image().style.width).toBe('300px');
    expect(screen.getByRole('button', { name: 'Vergrößern' })).toBeInTheDocument();
  });

  it('shows SVG only as an image source, smoothed', () => {
    render(PhotoTan, { props: { photo: { mime_type: 'image/svg+xml', image: 'PHN2Zy8+' }, locale: 'en' } });
    expect(image()).toHaveAttribute('src', 'data:image/svg+xml;base64,PHN2Zy8+');
    expect(image()).not.toHaveClass('pixelated');
    expect(document.querySelector('svg:not(.icon)')).toBeNull();
  });

  it('refuses types outside the allow-list', () => {
    render(PhotoTan, { props: { photo: { mime_type: 'text/html', image: 'PGgxPg==' }, locale: 'en' } });
    expect(screen.queryByTestId('photo-image')).toBeNull();
    expect(screen.getByRole('alert')).toHaveTextContent('cannot be shown');
  });

  it('falls back to the notice when the image does not decode', async () => {
    render(PhotoTan, { props: { photo: { mime_type: 'image/png', image: 'AAAA' }, locale: 'en' } });
    await fireEvent.error(image());
    expect(screen.queryByTestId('photo-image')).toBeNull();
    expect(screen.getByRole('alert')).toBeInTheDocument();
  });
});
