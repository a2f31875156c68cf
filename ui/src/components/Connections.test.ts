import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../App.svelte';
import type { ConnectionSummary } from '../bindings';
import { deadlineWarningText } from '../lib/app/consent';
import { notifyDeadlines } from '../lib/app/notify';
import { FakeBackend, type FakeState } from '../lib/backend/fake';
import { DEMO_ACCOUNTS, DEMO_CONNECTIONS } from '../lib/backend/fixtures';
import { de } from '../lib/i18n/de';
import { en } from '../lib/i18n/en';
import type { Locale } from '../lib/i18n/types';

const SOON: ConnectionSummary = {
  ...(DEMO_CONNECTIONS[0] as ConnectionSummary),
  consent_days_left: 10,
  deadline_warnings: [{ code: 'consent_ends', days_left: 10 }],
};

function start(state: Partial<FakeState>, locale: Locale = 'en') {
  const backend = new FakeBackend({ firstRun: false, accounts: DEMO_ACCOUNTS, ...state });
  const user = userEvent.setup();
  render(App, { props: { backend, locale, intlLocale: locale === 'de' ? 'de-DE' : 'en-GB' } });
  return { backend, user };
}

function memoryStorage() {
  const items = new Map<string, string>();
  return { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v) };
}

describe('deadline warnings', () => {
  it('words every code in both languages', () => {
    const all = [
      { code: 'consent_ends' as const, days_left: 3 },
      { code: 'consent_ended' as const },
      { code: 'access_ends' as const, days_left: 1 },
      { code: 'access_lost' as const },
    ];
    expect(deadlineWarningText(all, en.overview)).toBe(
      [en.overview.consentEndsIn(3), en.overview.consentEnded, en.overview.accessEndsIn(1), en.overview.accessLost].join(' · '),
    );
    expect(deadlineWarningText(all.slice(0, 1), de.overview)).toBe('Zustimmung der Bank endet in 3 Tagen — unter Verbindungen erneuern');
  });

  it('notifies once per consent end, again after a renewal brought a new one', async () => {
    const shown: string[] = [];
    const backend = { notify: async (_title: string, body: string) => void shown.push(body) };
    const seen = memoryStorage();
    expect(await notifyDeadlines(backend, [SOON, DEMO_CONNECTIONS[1] as ConnectionSummary], en.connections, seen)).toEqual([SOON.id]);
    expect(shown).toEqual([en.connections.notifyBody(SOON.bank_name, 10)]);
    expect(await notifyDeadlines(backend, [SOON], en.connections, seen)).toEqual([]);
    const renewedLater = { ...SOON, consent_expires_at: '2027-09-01T00:00:00Z' };
    expect(await notifyDeadlines(backend, [renewedLater], de.connections, seen)).toEqual([SOON.id]);
    expect(shown[1]).toBe(de.connections.notifyBody(SOON.bank_name, 10));
  });
});

describe('the connections screen', () => {
  it('shows the badge, notifies, and renews from the connection the user opened', async () => {
    const { backend, user } = start({ connections: [SOON, DEMO_CONNECTIONS[1] as ConnectionSummary] });
    const badge = await screen.findByTestId('connections-badge');
    expect(badge).toHaveTextContent('1');
    await waitFor(() => expect(backend.state.notifications).toHaveLength(1));
    const groups = await screen.findAllByTestId('bank-group');
    await user.click(within(groups[0] as HTMLElement).getByTestId('manage-connection'));
    const cards = await screen.findAllByTestId('connection-card');
    expect(within(cards[0] as HTMLElement).getByTestId('connection-consent')).toHaveTextContent('10 days left');
    expect(within(cards[0] as HTMLElement).getByTestId('connection-warning')).toHaveTextContent(en.connections.warnings.consentEnds(10));
    await user.click(within(cards[0] as HTMLElement).getByTestId('connection-renew'));
    await waitFor(() => expect(backend.calls).toContain('renewConsent'));
    await waitFor(() => expect(screen.queryByTestId('connections-badge')).not.toBeInTheDocument());
    expect(await screen.findAllByTestId('history-entry')).toHaveLength(1);
  });

  it('renames, hides and reorders accounts; the overview and its total follow', async () => {
    const { backend, user } = start({ connections: DEMO_CONNECTIONS });
    await user.click(await screen.findByTestId('nav-connections'));
    const first = (await screen.findAllByTestId('connection-account'))[0] as HTMLElement;
    const id = first.dataset['accountId'] as string;
    await user.click(within(first).getByTestId('account-rename'));
    const input = await screen.findByTestId('account-name-input');
    await user.clear(input);
    await user.type(input, 'Haushalt{Enter}');
    await waitFor(() => expect(backend.state.customNames[id]).toBe('Haushalt'));
    const renamed = screen.getAllByTestId('connection-account')[0] as HTMLElement;
    expect(within(renamed).getByTestId('connection-account-name')).toHaveTextContent('Haushalt');
    expect(within(renamed).getByTestId('connection-account-bank-name')).toHaveTextContent(en.connections.bankCalls(DEMO_ACCOUNTS[0]!.name));

    await user.click(within(renamed).getByTestId('account-hide'));
    await waitFor(() => expect(backend.state.hidden).toEqual([id]));
    expect(await within(screen.getAllByTestId('connection-account')[0] as HTMLElement).findByTestId('hidden-tag')).toBeInTheDocument();
    const overview = await backend.overview();
    expect(overview.accounts.map((a) => a.id)).not.toContain(id);

    const second = screen.getAllByTestId('connection-account')[1] as HTMLElement;
    await user.click(within(screen.getAllByTestId('connection-account')[0] as HTMLElement).getByTestId('account-move-down'));
    await waitFor(() => expect(screen.getAllByTestId('connection-account')[0]?.dataset['accountId']).toBe(second.dataset['accountId']));
  });

  it('names the accounts and transactions before removing a connection', async () => {
    const { backend, user } = start({ connections: DEMO_CONNECTIONS });
    await user.click(await screen.findByTestId('nav-connections'));
    const card = (await screen.findAllByTestId('connection-card'))[0] as HTMLElement;
    await user.click(within(card).getByTestId('connection-remove'));
    const dialog = await screen.findByTestId('remove-dialog');
    const mine = DEMO_ACCOUNTS.filter((a) => a.connection_id === DEMO_CONNECTIONS[0]!.id);
    for (const account of mine) expect(dialog).toHaveTextContent(account.name);
    expect(dialog).toHaveTextContent(en.connections.removeBody(mine.length, mine.length * 120));
    await user.click(within(dialog).getByTestId('remove-confirm'));
    expect(await screen.findByTestId('connection-removed')).toHaveTextContent(DEMO_CONNECTIONS[0]!.bank_name);
    expect(backend.state.connections.map((c) => c.id)).toEqual([DEMO_CONNECTIONS[1]!.id]);
  });

  it('lets the user keep one of two accounts with the same IBAN; the total counts it once', async () => {
    const original = DEMO_ACCOUNTS[0]!;
    const once: ConnectionSummary = { ...(DEMO_CONNECTIONS[1] as ConnectionSummary), id: 'con-once', access_kind: 'finx_onetime' };
    const copy = { ...original, id: 'copy', connection_id: 'con-once' };
    const { backend, user } = start({ connections: [...DEMO_CONNECTIONS, once], accounts: [...DEMO_ACCOUNTS, copy] }, 'de');
    const notice = await screen.findByTestId('duplicate-notice');
    expect(notice).toHaveTextContent(de.overview.duplicateTitle([original.name]));
    const single = await new FakeBackend({ firstRun: false, connections: DEMO_CONNECTIONS, accounts: DEMO_ACCOUNTS }).overview();
    expect((await backend.overview()).totals).toEqual(single.totals);
    await user.click(within(notice).getByTestId('keep-copy'));
    await waitFor(() => expect(screen.queryByTestId('duplicate-notice')).not.toBeInTheDocument());
    expect(backend.state.hidden).toEqual([original.id]);
    expect((await backend.overview()).totals).toEqual(single.totals);
  });

  it('offers the renewal where a sync failed for an ended consent', async () => {
    const { backend, user } = start({ connections: DEMO_CONNECTIONS });
    backend.failNext('syncConnection', { code: 'ConsentExpired', message: 'ended' });
    const groups = await screen.findAllByTestId('bank-group');
    await user.click(within(groups[0] as HTMLElement).getByTestId('sync-connection'));
    const notice = await screen.findByTestId('overview-notice');
    expect(notice).toHaveTextContent(en.errors.ConsentExpired);
    await user.click(within(notice).getByTestId('notice-renew'));
    expect(await screen.findByTestId('connections')).toBeInTheDocument();
    expect(await screen.findAllByTestId('connection-card')).toHaveLength(DEMO_CONNECTIONS.length);
  });

  it('shows each sync with its outcome, changes, warnings and the error in the history', async () => {
    const at = '2026-11-21T07:45:00Z';
    const entry = { connection_id: DEMO_CONNECTIONS[0]!.id, bank_name: DEMO_CONNECTIONS[0]!.bank_name, started_at: at, finished_at: at };
    const { user } = start(
      {
        connections: DEMO_CONNECTIONS,
        history: [
          {
            ...entry,
            id: 2,
            outcome: 'succeeded',
            added: 3,
            updated: 1,
            removed: 0,
            error: null,
            warnings: [{ code: 'withdrawn_removed', count: 2 }],
          },
          { ...entry, id: 1, outcome: 'failed', added: 0, updated: 0, removed: 0, error: { code: 'ProviderUnavailable', message: 'down' }, warnings: [] },
        ],
      },
      'de',
    );
    await user.click(await screen.findByTestId('nav-connections'));
    const entries = await screen.findAllByTestId('history-entry');
    expect(entries.map((e) => e.dataset['outcome'])).toEqual(['succeeded', 'failed']);
    expect(entries[0]).toHaveTextContent(de.connections.changes(3, 1, 0));
    expect(within(entries[0] as HTMLElement).getByTestId('history-warning')).toHaveTextContent('2 Buchungen, die die Bank zurückgezogen hat, wurden entfernt.');
    expect(within(entries[1] as HTMLElement).getByTestId('history-error')).toHaveTextContent(de.errors.ProviderUnavailable);
  });
});
