import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import TanInput from './TanInput.svelte';

function field(): HTMLInputElement {
  return screen.getByLabelText('TAN') as HTMLInputElement;
}

describe('TanInput', () => {
  it('is a one-time-code field; Enter submits the trimmed TAN', async () => {
    const user = userEvent.setup();
    const onSubmit = vi.fn();
    render(TanInput, { props: { onSubmit, locale: 'en' } });
    expect(field()).toHaveAttribute('autocomplete', 'one-time-code');
    expect(field()).toHaveAttribute('inputmode', 'text');
    await user.type(field(), '  ab-12 x {Enter}');
    expect(onSubmit).toHaveBeenCalledExactlyOnceWith('ab-12 x');
  });

  it('asks for a TAN only after a submit attempt', async () => {
    const user = userEvent.setup();
    const onSubmit = vi.fn();
    render(TanInput, { props: { onSubmit, locale: 'en' } });
    expect(screen.queryByTestId('tan-error')).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Confirm' }));
    expect(screen.getByTestId('tan-error')).toHaveTextContent('Please enter the TAN.');
    expect(field()).toHaveAttribute('aria-invalid', 'true');
    expect(field()).toHaveAccessibleDescription('Please enter the TAN.');
    expect(field()).toHaveFocus();
    await user.type(field(), '1');
    expect(screen.queryByTestId('tan-error')).toBeNull();
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it('validates a numeric TAN by length and characters', async () => {
    const user = userEvent.setup();
    const onSubmit = vi.fn();
    render(TanInput, { props: { onSubmit, format: 'numeric', maxLength: 6, locale: 'en' } });
    expect(field()).toHaveAttribute('inputmode', 'numeric');
    expect(screen.getByText('Digits only, up to 6.')).toBeInTheDocument();
    await user.type(field(), '12a');
    expect(screen.getByTestId('tan-error')).toHaveTextContent('digits only');
    await user.clear(field());
    await user.type(field(), '1234567{Enter}');
    expect(screen.getByTestId('tan-error')).toHaveTextContent('at most 6 characters');
    expect(onSubmit).not.toHaveBeenCalled();
    await user.clear(field());
    await user.type(field(), '123 456{Enter}');
    expect(onSubmit).toHaveBeenCalledExactlyOnceWith('123456');
  });

  it('validates an alphanumeric TAN', async () => {
    const user = userEvent.setup();
    const onSubmit = vi.fn();
    render(TanInput, { props: { onSubmit, format: 'alphanumeric', locale: 'de' } });
    await user.type(field(), 'AB-1{Enter}');
    expect(screen.getByTestId('tan-error')).toHaveTextContent('Buchstaben und Ziffern');
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it('limits an unspecified TAN to 64 characters', async () => {
    const user = userEvent.setup();
    const onSubmit = vi.fn();
    render(TanInput, { props: { onSubmit, locale: 'en' } });
    await user.click(field());
    await user.paste('x'.repeat(65));
    await user.keyboard('{Enter}');
    expect(screen.getByTestId('tan-error')).toHaveTextContent('at most 64');
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it('shows an outside error and does not submit while busy', async () => {
    const user = userEvent.setup();
    const onSubmit = vi.fn();
    render(TanInput, { props: { onSubmit, busy: true, error: 'TAN rejected', value: '123', locale: 'en' } });
    expect(screen.getByTestId('tan-error')).toHaveTextContent('TAN rejected');
    expect(field()).toBeDisabled();
    expect(screen.getByTestId('tan-submit')).toBeDisabled();
    await user.click(screen.getByTestId('tan-submit'));
    expect(onSubmit).not.toHaveBeenCalled();
  });
});
