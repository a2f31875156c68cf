import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../App.svelte';
import type { ConnectionSummary } from '../bindings';
import { connectionDeadline } from '../lib/app/consent';
import { regularity } from '../lib/app/report';
import { FakeBackend, type FakeState } from '../lib/backend/fake';
import { FAKE_DEMO_FINX_PROVIDER, FAKE_DEMO_PROVIDER } from '../lib/backend/fakeLink';
import { scenario } from '../lib/backend/fixtures';
import { de } from '../lib/i18n/de';
import { en } from '../lib/i18n/en';
import type { Locale } from '../lib/i18n/types';

const BOTH = { firstRun: false, providers: [FAKE_DEMO_PROVIDER, FAKE_DEMO_FINX_PROVIDER] };

function start(state: Partial<FakeState>, locale: Locale = 'en') {
  const backend = new FakeBackend(state);
  const user = userEvent.setup();
  render(App, { props: { backend, locale, intlLocale: locale === 'de' ? 'de-DE' : 'en-GB' } });
  return { backend, user };
}

async function openFinx(user: ReturnType<typeof userEvent.setup>) {
  await user.click(await screen.findByTestId('link-bank'));
  const step = await screen.findByTestId('step-provider');
  const options = within(step).getAllByTestId('provider-option');
  expect(step).toHaveTextContent(en.linkBank.demoProviderFinapi);
  expect(step).toHaveTextContent(en.linkBank.demoProviderFinx);
  await user.click(options.find((o) => o.dataset.kind === 'finx') as HTMLElement);
  await user.click(within(step).getByRole('button', { name: en.linkBank.next }));
  return screen.findByTestId('step-finx');
}

async function waitInBrowser(backend: FakeBackend) {
  const step = await screen.findByTestId('step-browser');
  const field = within(step).getByTestId('browser-url') as HTMLInputElement;
  expect(field.value).toMatch(/\/finx\/widget\?token=/);
  await waitFor(() => expect(backend.state.opened).toContain(field.value));
  const [pending] = await backend.pendingFlows();
  return { step, callback: backend.linking.callbackUrlFor(pending?.flow_id ?? '') };
}

describe('finX in the link dialog', () => {
  it('offers the three flows with explanations and checks the optional IBANs', async () => {
    const { backend, user } = start(BOTH);
    const step = await openFinx(user);
    for (const flow of ['ongoing', 'one_time', 'income_report'] as const) {
      expect(step).toHaveTextContent(en.linkBank.finxFlows[flow].title);
      expect(step).toHaveTextContent(en.linkBank.finxFlows[flow].body);
    }
    await user.type(within(step).getByTestId('finx-ibans'), 'DE02 2800 0500 0000 0000 01, nonsense');
    await user.click(within(step).getByTestId('finx-start'));
    expect(await within(step).findByRole('alert')).toHaveTextContent('NONSENSE');
    expect(backend.calls).not.toContain('startFinxLink');
  });

  it('one-time access: waits for the callback, shows the URL to open by hand, imports once', async () => {
    const { backend, user } = start(BOTH);
    const step = await openFinx(user);
    await user.click(within(step).getAllByTestId('finx-flow').find((r) => r.dataset.flow === 'one_time') as HTMLElement);
    await user.click(within(step).getByTestId('finx-start'));
    const { step: browser, callback } = await waitInBrowser(backend);
    expect(browser).toHaveTextContent(en.linkBank.finxBrowserBody);
    expect(browser).toHaveTextContent(en.linkBank.browserUrlLabel);

    backend.deliverCallback(callback);
    const done = await screen.findByTestId('link-done');
    expect(within(done).getByTestId('done-once')).toHaveTextContent(en.linkBank.doneOnceNote);
    await user.click(within(done).getByTestId('link-finish'));
    const group = (await screen.findAllByTestId('bank-group'))[0] as HTMLElement;
    expect(within(group).getByTestId('imported-once')).toHaveTextContent(en.overview.importedOnce);
    expect(within(group).queryByTestId('sync-connection')).not.toBeInTheDocument();
  });

  it('shows the address when the browser cannot be opened', async () => {
    const { backend, user } = start(BOTH);
    backend.failNext('openInBrowser', { code: 'Io', message: 'The browser could not be opened. Copy the address.' });
    const step = await openFinx(user);
    await user.click(within(step).getByTestId('finx-start'));
    const browser = await screen.findByTestId('step-browser');
    expect(await within(browser).findByTestId('browser-error')).toHaveTextContent('could not be opened');
    expect((within(browser).getByTestId('browser-url') as HTMLInputElement).value).toMatch(/^http:/);
  });

  it('income report: the callback brings the report, which opens on the Reports page', async () => {
    const { backend, user } = start(BOTH);
    const step = await openFinx(user);
    await user.click(within(step).getAllByTestId('finx-flow').find((r) => r.dataset.flow === 'income_report') as HTMLElement);
    await user.click(within(step).getByTestId('finx-start'));
    const { callback } = await waitInBrowser(backend);
    backend.deliverCallback(callback);
    const ready = await screen.findByTestId('link-report');
    expect(ready).toHaveTextContent(en.linkBank.reportTitle);
    await user.click(within(ready).getByTestId('open-report'));

    const detail = await screen.findByTestId('report-detail');
    expect(screen.queryByTestId('link-bank-dialog')).not.toBeInTheDocument();
    expect(within(detail).getByTestId('report-income')).toHaveTextContent('€3,252.47');
    expect(within(detail).getByTestId('report-disposable')).toHaveTextContent('€1,778.48');
    expect(screen.getByTestId('report-period')).toHaveTextContent('5 months');
    const streams = screen.getAllByTestId('income-stream');
    expect(streams[0]).toHaveTextContent('Muster GmbH');
    expect(streams[0]).toHaveTextContent(en.reports.regularity.monthly);
    expect(streams[0]).toHaveTextContent('€3,250.00');
    expect(streams[1]).toHaveTextContent(en.reports.regularity.irregular(3));
    expect(screen.getByTestId('report-regular')).toHaveTextContent('€1,032.50');
    expect(screen.getByTestId('report-variable')).toHaveTextContent('REWE');
    expect(backend.calls).toContain('incomeReports');
  });
});

describe('Reports page', () => {
  it('has an empty state whose button starts an income report at the finX provider', async () => {
    const { user } = start(BOTH);
    await user.click(await screen.findByTestId('nav-reports'));
    const empty = await screen.findByTestId('reports-empty');
    expect(empty).toHaveTextContent(en.reports.emptyTitle);
    await user.click(within(empty).getByTestId('create-report'));
    const step = await screen.findByTestId('step-finx');
    const chosen = within(step).getAllByTestId('finx-flow').find((r) => (r as HTMLInputElement).checked);
    expect(chosen?.dataset.flow).toBe('income_report');
  });

  it('without a finX provider, says to add one', async () => {
    const { user } = start({ firstRun: false });
    await user.click(await screen.findByTestId('nav-reports'));
    await user.click(within(await screen.findByTestId('reports-empty')).getByTestId('create-report'));
    expect(await screen.findByText(en.linkBank.reportNeedsFinx)).toBeInTheDocument();
  });

  it('lists stored reports and shows one in German with German money', async () => {
    const { user } = start(scenario('finx'), 'de');
    await user.click(await screen.findByTestId('nav-reports'));
    await user.click(await screen.findByTestId('report-row'));
    const detail = await screen.findByTestId('report-detail');
    expect(within(detail).getByTestId('report-income')).toHaveTextContent('3.252,47 €');
    expect(screen.getAllByTestId('income-stream')[0]).toHaveTextContent(de.reports.regularity.monthly);
    expect(screen.getByText(de.reports.share('55 %'))).toBeInTheDocument();
  });
});

describe('consent warnings on the overview', () => {
  it('shows an amber warning for a consent that ends soon, and "Imported once" without a sync button', async () => {
    start(scenario('finx'));
    const warning = await screen.findByTestId('consent-warning');
    expect(warning).toHaveTextContent(en.overview.consentEndsIn(12));
    const groups = screen.getAllByTestId('bank-group');
    expect(within(groups[1] as HTMLElement).getByTestId('imported-once')).toBeInTheDocument();
    expect(within(groups[1] as HTMLElement).queryByTestId('sync-connection')).not.toBeInTheDocument();
    expect(within(groups[0] as HTMLElement).getByTestId('sync-connection')).toBeInTheDocument();
  });

  it('words the inactivity deadline in German', async () => {
    start(scenario('finx'), 'de');
    expect(await screen.findByTestId('consent-warning')).toHaveTextContent(de.overview.consentEndsIn(12));
  });

  it('words the core\'s deadline codes, and a quiet line without a warning', () => {
    const now = new Date('2026-05-01T12:00:00Z');
    const base: ConnectionSummary = { id: 'c', bank_name: 'B', status: 'active', consent_expires_at: null, last_synced_at: null, deadline_warnings: [] };
    const soon = { ...base, access_kind: 'finx_ongoing', access_expires_at: '2026-05-13T13:00:00Z', deadline_warnings: [{ code: 'access_ends' as const, days_left: 12 }] };
    expect(connectionDeadline(soon, en.overview, 'en-GB', now).warning).toBe('Access ends in 12 days — renew by syncing');
    const later = { ...base, access_kind: 'finx_ongoing', access_expires_at: '2026-07-30T12:00:00Z' };
    expect(connectionDeadline(later, en.overview, 'en-GB', now)).toEqual({
      once: false,
      warning: null,
      info: en.overview.accessUntil('30 Jul 2026'),
    });
    const lost = { ...base, access_expires_at: '2026-04-01T12:00:00Z', deadline_warnings: [{ code: 'access_lost' as const }] };
    expect(connectionDeadline(lost, en.overview, 'en-GB', now).warning).toBe(en.overview.accessLost);
  });
});

describe('regularity', () => {
  it('reads monthly, several a month and irregular from the bookings over the active months', () => {
    const f = (total: string, average: string, count: number) => ({ total, low: null, high: null, average, count, ratio: null });
    const s = (summary: ReturnType<typeof f> | null, first: string | null = null, last: string | null = null) => ({
      summary,
      first_booked_on: first,
      last_booked_on: last,
    });
    expect(regularity(s(f('500.00', '100.00', 5)))).toEqual({ kind: 'monthly' });
    expect(regularity(s(f('500.00', '100.00', 20)))).toEqual({ kind: 'several', perMonth: 4 });
    expect(regularity(s(f('12.35', '2.47', 3)))).toEqual({ kind: 'irregular', count: 3 });
    // Six salaries in a report of 11 months, paid every month since the job began: monthly.
    expect(regularity(s(f('13070.00', '1188.18', 6), '2026-06-30', '2026-11-27'))).toEqual({ kind: 'monthly' });
    expect(regularity(s(null))).toEqual({ kind: 'unknown' });
  });
});

describe('Settings → bank access providers', () => {
  it('lists the demo providers, validates the form and adds a finX provider', async () => {
    const { backend, user } = start(BOTH);
    await user.click(await screen.findByTestId('nav-settings'));
    const rows = await screen.findAllByTestId('provider-row');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent(en.settings.demoBadge);

    const form = screen.getByTestId('provider-form');
    await user.click(within(form).getByTestId('provider-submit'));
    expect(within(form).getAllByText(en.settings.required)).toHaveLength(3);
    await user.type(within(form).getByTestId('provider-base-url'), 'ftp://x');
    await user.click(within(form).getByTestId('provider-submit'));
    expect(within(form).getByText(en.settings.badUrl)).toBeInTheDocument();
    expect(backend.calls).not.toContain('addProviderConfig');

    await user.click(within(form).getAllByTestId('provider-kind').find((r) => (r as HTMLInputElement).value === 'finx') as HTMLElement);
    expect(within(form).queryByTestId('provider-api-version')).not.toBeInTheDocument();
    expect(within(form).getByTestId('provider-client-secret')).toHaveAttribute('type', 'password');
    await user.type(within(form).getByTestId('provider-label-input'), 'finX live');
    await user.clear(within(form).getByTestId('provider-base-url'));
    await user.type(within(form).getByTestId('provider-base-url'), 'https://api.finx.example/');
    await user.type(within(form).getByTestId('provider-client-id'), 'my-client');
    await user.type(within(form).getByTestId('provider-client-secret'), 's3cret');
    await user.click(within(form).getByTestId('provider-submit'));
    expect(await screen.findByTestId('provider-added')).toHaveTextContent(en.settings.added('finX live'));
    await waitFor(() => expect(screen.getAllByTestId('provider-row')).toHaveLength(3));
    expect(backend.state.secrets['provider-3']).toBe('s3cret');

    // A real provider replaces the Demo Bank in the link dialog.
    await user.click(screen.getByTestId('nav-overview'));
    await user.click(await screen.findByTestId('link-bank'));
    expect(await screen.findByTestId('step-finx')).toHaveTextContent('finX live');
  });

  it('shows the error code when the core refuses', async () => {
    const { backend, user } = start(BOTH);
    backend.failNext('addProviderConfig', { code: 'KeyringUnavailable', message: 'The OS keyring did not answer.' });
    await user.click(await screen.findByTestId('nav-settings'));
    const form = await screen.findByTestId('provider-form');
    await user.type(within(form).getByTestId('provider-base-url'), 'https://sandbox.finapi.io');
    await user.type(within(form).getByTestId('provider-client-id'), 'id');
    await user.type(within(form).getByTestId('provider-client-secret'), 'secret');
    await user.click(within(form).getByTestId('provider-submit'));
    const error = await screen.findByTestId('provider-error');
    expect(error).toHaveAttribute('data-error-code', 'KeyringUnavailable');
    expect(error).toHaveTextContent(en.common.errorCode('KeyringUnavailable'));
  });
});
