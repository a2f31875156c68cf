import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../App.svelte';
import { FakeBackend } from '../lib/backend/fake';
import { FAKE_TAN } from '../lib/backend/fakeLink';
import { scenario } from '../lib/backend/fixtures';
import { de } from '../lib/i18n/de';
import { en } from '../lib/i18n/en';
import type { Locale } from '../lib/i18n/types';

async function openDialog(locale: Locale = 'en') {
  const backend = new FakeBackend(scenario('empty'));
  const user = userEvent.setup();
  render(App, { props: { backend, locale, intlLocale: locale === 'de' ? 'de-DE' : 'en-GB' } });
  await user.click(await screen.findByTestId('link-bank'));
  const dialog = await screen.findByTestId('link-bank-dialog');
  return { backend, user, dialog };
}

async function pickBank(user: ReturnType<typeof userEvent.setup>, name: string) {
  const search = await screen.findByTestId('bank-search-input');
  await waitFor(() => expect(search).toHaveFocus());
  await user.type(search, `${name}{Enter}`);
  const results = await screen.findByTestId('bank-results');
  expect(results).toHaveTextContent(/DEMODE0\dXXX/);
  await user.click(within(results).getByText(name, { exact: true }));
}

async function signIn(user: ReturnType<typeof userEvent.setup>, id = 'demo', pin = 'demo') {
  const step = await screen.findByTestId('step-credentials');
  const [login, secret] = within(step).getAllByTestId('credential-field');
  await waitFor(() => expect(login).toHaveFocus());
  expect(secret).toHaveAttribute('type', 'password');
  await user.type(login as HTMLElement, id);
  await user.type(secret as HTMLElement, `${pin}{Enter}`);
}

async function chooseProcedure(user: ReturnType<typeof userEvent.setup>, name: string) {
  const step = await screen.findByTestId('step-procedure');
  await user.click(within(step).getByLabelText(new RegExp(name)));
  await user.click(within(step).getByTestId('procedure-submit'));
}

describe('LinkBankDialog', () => {
  it('offers to let the banking service keep the login, off unless ticked (English and German)', async () => {
    const { backend, user } = await openDialog();
    await pickBank(user, 'finAPI Test Bank');
    const step = await screen.findByTestId('step-credentials');
    const keep = within(step).getByTestId('store-secrets');
    expect(keep).not.toBeChecked();
    expect(within(step).getByText(en.linkBank.storeSecrets)).toBeInTheDocument();
    await signIn(user, 'demo', 'wrong');
    await screen.findByTestId('flow-error');
    const again = await screen.findByTestId('step-credentials');
    const [login, secret] = within(again).getAllByTestId('credential-field');
    await user.type(login as HTMLElement, 'demo');
    await user.type(secret as HTMLElement, 'demo');
    await user.click(within(again).getByTestId('store-secrets'));
    await user.click(within(again).getByTestId('credentials-submit'));
    await screen.findByTestId('step-procedure');
    expect(backend.linking.storeSecretsAnswers).toEqual([false, true]);
    expect(de.linkBank.storeSecrets).toMatch(/speichern/);
  });

  it('links the test bank with smsTan: search, login (refused once), method, TAN (refused once), done', async () => {
    const { backend, user } = await openDialog();
    // Demo Bank is the only provider: preselected, straight to the search.
    expect(screen.getByTestId('provider-label')).toHaveTextContent(en.linkBank.demoProviderFinapi);
    await pickBank(user, 'finAPI Test Bank');

    await signIn(user, 'demo', 'wrong');
    expect(await screen.findByTestId('flow-error')).toHaveAttribute('data-error-code', 'CredentialsRejected');
    expect(screen.getByText(/9942 PIN falsch/)).toBeInTheDocument();
    await signIn(user);

    await chooseProcedure(user, 'smsTan');
    const tan = await screen.findByTestId('step-tan');
    expect(within(tan).getByTestId('tan-text')).toHaveTextContent(FAKE_TAN);
    const input = within(tan).getByRole('textbox');
    await waitFor(() => expect(input).toHaveFocus());
    await user.type(input, '000000{Enter}');
    // A new round after the refusal: the method again, with "TAN rejected", then a new TAN.
    expect(await screen.findByTestId('flow-error')).toHaveAttribute('data-error-code', 'TanRejected');
    await chooseProcedure(user, 'smsTan');
    await user.type(within(await screen.findByTestId('step-tan')).getByRole('textbox'), `${FAKE_TAN}{Enter}`);

    const done = await screen.findByTestId('link-done');
    expect(done).toHaveTextContent(en.linkBank.doneBody('finAPI Test Bank'));
    expect(await within(done).findByText(en.linkBank.doneAccounts(3))).toBeInTheDocument();
    await user.click(within(done).getByTestId('link-finish'));
    await waitFor(() => expect(screen.queryByTestId('link-bank-dialog')).not.toBeInTheDocument());
    expect(await screen.findAllByTestId('account-row')).toHaveLength(3);
    // the button that opened the dialog is gone: focus goes to the overview's primary action
    await waitFor(() => expect(screen.getByTestId('sync-all')).toHaveFocus());
    expect(backend.calls).not.toContain('cancelFlow');
  });

  it('shows a flicker code and a photoTAN for the optical methods', async () => {
    const { user } = await openDialog();
    await pickBank(user, 'finAPI Test Bank');
    await signIn(user);
    await chooseProcedure(user, 'chipTan optical');
    const flicker = await screen.findByTestId('step-tan');
    expect(within(flicker).getByTestId('tan-challenge')).toHaveAttribute('data-kind', 'flicker');
    expect(flicker.querySelectorAll('[data-bar-index]')).toHaveLength(5);
    expect(within(flicker).getByText(/chipTan optical/)).toBeInTheDocument();

    // Cancel, then the QR method.
    await user.click(within(flicker).getByTestId('tan-cancel'));
    await waitFor(() => expect(screen.queryByTestId('link-bank-dialog')).not.toBeInTheDocument());
    await user.click(await screen.findByTestId('link-bank'));
    await pickBank(user, 'finAPI Test Bank');
    await signIn(user);
    await chooseProcedure(user, 'chipTan QR');
    const photo = await screen.findByTestId('photo-image');
    expect(photo.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
  });

  it('waits in the browser, ignores a foreign callback, and finishes on the right one', async () => {
    const { backend, user } = await openDialog();
    await pickBank(user, 'finAPI Test Redirect Bank');
    await signIn(user);
    const step = await screen.findByTestId('step-browser');
    expect(step).toHaveTextContent(en.linkBank.browserBody('finAPI Test Redirect Bank'));
    await waitFor(() => expect(backend.state.opened).toHaveLength(1));
    await user.click(within(step).getByTestId('open-browser'));
    expect(backend.state.opened).toHaveLength(2);

    backend.deliverCallback('kontor://sca-callback?state=somebody-else');
    expect(await screen.findByTestId('link-notice')).toHaveAttribute('data-error-code', 'ScaStateMismatch');
    expect(screen.getByTestId('step-browser')).toBeInTheDocument();

    const [pending] = await backend.pendingFlows();
    backend.deliverCallback(backend.linking.callbackUrlFor(pending?.flow_id ?? ''));
    expect(await screen.findByTestId('link-done')).toBeInTheDocument();
  });

  it('says so when the browser cannot be opened, and takes the pasted callback address instead', async () => {
    const { backend, user } = await openDialog();
    backend.failNext('openInBrowser', { code: 'Io', message: 'xdg-open exited with status 3' });
    await pickBank(user, 'finAPI Test Redirect Bank');
    await signIn(user);
    const step = await screen.findByTestId('step-browser');
    expect(await within(step).findByTestId('browser-error')).toHaveTextContent('xdg-open exited with status 3');
    expect(within(step).getByTestId('browser-intro')).toHaveTextContent(en.linkBank.browserNotOpened);
    expect(within(step).getByTestId('browser-intro')).not.toHaveTextContent(/opened in your web browser/);

    const input = within(step).getByTestId('paste-callback-input');
    await user.type(input, 'https://example.com/not-a-callback{Enter}');
    expect(await within(step).findByTestId('paste-callback-error')).toHaveTextContent(/kontor/);
    expect(screen.getByTestId('step-browser')).toBeInTheDocument();

    const [pending] = await backend.pendingFlows();
    await user.clear(input);
    await user.type(input, `  ${backend.linking.callbackUrlFor(pending?.flow_id ?? '')}  {Enter}`);
    expect(await screen.findByTestId('link-done')).toBeInTheDocument();
    expect(backend.calls).toContain('pasteCallback');
  });

  it('polls while the user approves in the banking app', async () => {
    const { backend, user } = await openDialog();
    await pickBank(user, 'finAPI Test Decoupled Bank');
    await signIn(user);
    expect(await screen.findByTestId('step-approve')).toHaveTextContent(en.linkBank.approveWaiting);
    expect(await screen.findByTestId('link-done', {}, { timeout: 4000 })).toBeInTheDocument();
    expect(backend.calls.filter((c) => c === 'answerFlow').length).toBeGreaterThanOrEqual(3);
  });

  it('asks for the IBANs when the bank wants them', async () => {
    const { user } = await openDialog();
    await pickBank(user, 'finAPI Test Consent Bank');
    expect(await screen.findByTestId('login-hint')).toHaveTextContent('DE12280003000000000001');
    await signIn(user);
    const step = await screen.findByTestId('step-accounts');
    const iban = within(step).getByTestId('iban-input');
    await waitFor(() => expect(iban).toHaveFocus());
    await user.type(iban, 'not an iban{Enter}');
    expect(within(step).getByRole('alert')).toHaveTextContent(en.linkBank.ibanInvalid);
    await user.clear(iban);
    await user.type(iban, 'DE13 2800 0300 0000 0000 01');
    expect(within(step).getByTestId('iban-checksum-error')).toHaveTextContent(en.linkBank.ibanChecksum);
    expect(iban).toHaveAttribute('aria-invalid', 'true');
    expect(within(step).getByTestId('accounts-hint')).toHaveTextContent('DE12280003000000000001');
    await user.clear(iban);
    await user.type(iban, 'DE12 2800 0300 0000 0000 01');
    expect(within(step).queryByTestId('iban-checksum-error')).not.toBeInTheDocument();
    await user.type(iban, '{Enter}');
    await user.type(within(await screen.findByTestId('step-tan')).getByRole('textbox'), `${FAKE_TAN}{Enter}`);
    expect(await screen.findByTestId('link-done')).toBeInTheDocument();
  });

  it('Escape cancels the flow at the core and closes', async () => {
    const { backend, user } = await openDialog();
    await pickBank(user, 'finAPI Test Bank');
    await screen.findByTestId('step-credentials');
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByTestId('link-bank-dialog')).not.toBeInTheDocument());
    expect(backend.calls).toContain('cancelFlow');
    expect(await backend.pendingFlows()).toEqual([]);
  });

  it('shows a failure by its code with "Try again"', async () => {
    const { backend, user } = await openDialog();
    backend.failNext('startLink', { code: 'ProviderUnavailable', message: 'down' });
    await pickBank(user, 'finAPI Test Bank');
    const failed = await screen.findByTestId('link-failed');
    expect(failed).toHaveAttribute('data-error-code', 'ProviderUnavailable');
    expect(failed).toHaveTextContent(en.errors.ProviderUnavailable);
    await user.click(within(failed).getByTestId('link-retry'));
    expect(await screen.findByTestId('step-credentials')).toBeInTheDocument();
  });

  it('speaks German', async () => {
    const { user } = await openDialog('de');
    expect(screen.getByText(de.linkBank.demoSearchHint)).toBeInTheDocument();
    await pickBank(user, 'finAPI Test Bank');
    expect(await screen.findByText(de.linkBank.credentialsTitle('finAPI Test Bank'))).toBeInTheDocument();
  });
});

describe('sync on the overview', () => {
  it('a sync that needs a TAN continues in a dialog of its own: "Sync <bank>", never "Link a bank"', async () => {
    const backend = new FakeBackend(scenario('accounts'));
    const [first] = backend.state.connections;
    backend.syncNeedsTan.add(first?.id ?? '');
    const user = userEvent.setup();
    render(App, { props: { backend, locale: 'en', intlLocale: 'en-GB' } });
    await user.click((await screen.findAllByTestId('sync-connection'))[0] as HTMLElement);
    const dialog = await screen.findByTestId('link-bank-dialog');
    expect(within(dialog).getByRole('heading', { level: 2 })).toHaveTextContent(en.linkBank.syncTitle(first?.bank_name ?? ''));
    expect(dialog).not.toHaveTextContent(en.linkBank.title);
    const tan = await within(dialog).findByTestId('step-tan');
    await user.type(within(tan).getByRole('textbox'), `${FAKE_TAN}{Enter}`);
    const done = await within(dialog).findByTestId('link-done');
    expect(done).toHaveTextContent(en.linkBank.syncDoneTitle);
    expect(done).toHaveTextContent(en.linkBank.syncDoneBody(first?.bank_name ?? ''));
    expect(done).not.toHaveTextContent(/now linked/);
  });

  it('syncs all connections and shows when they were synced', async () => {
    const backend = new FakeBackend(scenario('accounts'));
    const user = userEvent.setup();
    render(App, { props: { backend, locale: 'en', intlLocale: 'en-GB' } });
    await user.click(await screen.findByTestId('sync-all'));
    expect(await screen.findAllByTestId('overview-notice')).toHaveLength(2);
    await waitFor(() =>
      expect(screen.getAllByTestId('last-synced')[0]).toHaveTextContent(en.overview.syncedJustNow),
    );
    await user.click(screen.getAllByTestId('sync-connection')[0] as HTMLElement);
    await waitFor(() => expect(backend.calls.filter((c) => c === 'syncConnection')).toHaveLength(1));
  });
});
