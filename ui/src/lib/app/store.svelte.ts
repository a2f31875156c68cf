import type {
  ConnectionDetail,
  RemovedConnection,
  SyncEntry,
  Preferences,
  AppStatus,
  FlowUpdate,
  KeySourceDto,
  KontorError,
  NewProviderConfig,
  Overview,
  ProviderConfigSummary,
  StoredIncomeReport,
  WorkStep,
} from '../../bindings';
import type { LinkIntent } from '../link/flow.svelte';
import type { Backend, CallbackResult, ProgressHandler, Unsubscribe } from '../backend/types';
import { toKontorError } from '../backend/errors';
import { screenFor, type Screen } from './routing';
import { DEFAULT_PREFERENCES } from './appearance';
import { markStartup, startupMarks } from './startupMarks';

export type Loadable<T> =
  | { state: 'idle' }
  | { state: 'loading' }
  | { state: 'ready'; data: T }
  | { state: 'error'; error: KontorError };

export type DialogKind = 'link-bank';

/** The page shown next to the sidebar once the vault is open. */
export type View = 'overview' | 'transactions' | 'account' | 'connections' | 'reports' | 'settings';

type CallbackHandler = (result: CallbackResult) => boolean | void;

/** A message on the overview about something that finished in the background. */
export type OverviewNotice =
  | { kind: 'sync-done'; bank: string; added: number }
  | { kind: 'sync-failed'; bank: string; error: KontorError; connectionId?: string }
  | { kind: 'callback-linked'; bank: string }
  | { kind: 'callback-refused'; error: KontorError }
  | { kind: 'report-ready'; reportId: string };

/** A sync in progress: per connection id, or `all`. */
export interface SyncProgress {
  step: WorkStep | null;
}

/**
 * The app's state and actions. Screens read it and call its actions; only the store talks to the
 * Backend. Later flows (linking, sync, TAN challenges) add actions and state here.
 */
export class AppStore {
  status = $state<AppStatus | null>(null);
  screen = $state<Screen>({ kind: 'loading' });
  overview = $state<Loadable<Overview>>({ state: 'idle' });
  /** An action in flight (buttons show progress and stay disabled). */
  busy = $state(false);
  /** The open dialog, if any. */
  dialog = $state<DialogKind | null>(null);
  /** A flow to continue in the link dialog (a sync that needs the user). */
  resumeFlow = $state<{ update: FlowUpdate; bankName: string; renew?: boolean } | null>(null);
  /** Syncs running, by connection id (`*` for "sync all"). */
  syncing = $state<Record<string, SyncProgress>>({});
  notices = $state<OverviewNotice[]>([]);
  /** The page next to the sidebar. */
  view = $state<View>('overview');
  /** Stored finX income reports, newest first (from the vault). */
  reports = $state<Loadable<StoredIncomeReport[]>>({ state: 'idle' });
  /** The report open on the reports page, if any. */
  selectedReportId = $state<string | null>(null);
  /** Provider configurations (settings page). */
  providers = $state<Loadable<ProviderConfigSummary[]>>({ state: 'idle' });
  /** The account shown on the account page (view `account`). */
  accountId = $state<string | null>(null);
  /** What the link dialog was opened for. */
  linkIntent = $state<LinkIntent>('link');
  /** The connections screen: every connection with its consent, accounts and last sync. */
  connections = $state<Loadable<ConnectionDetail[]>>({ state: 'idle' });
  /** The sync history shown on the connections screen: one connection's, or all (`null`). */
  history = $state<Loadable<SyncEntry[]>>({ state: 'idle' });
  historyConnectionId = $state<string | null>(null);
  /** The connection the connections screen scrolls to (opened from a bank group). */
  focusConnectionId = $state<string | null>(null);

  readonly backend: Backend;
  /** Not reactive on purpose: handlers are plumbing, not state to render. */
  private callbackHandlers: CallbackHandler[] = [];
  private progressHandlers: ProgressHandler[] = [];
  private unlisten: Unsubscribe[] = [];
  private overviewPaintReported = false;

  /** Language and theme: the cached copy at first, the vault's once read. */
  preferences = $state<Preferences>(DEFAULT_PREFERENCES);
  /** Whether `preferences` came from the vault (only then are they cached for the next start). */
  preferencesLoaded = $state(false);

  constructor(backend: Backend, preferences?: Preferences) {
    this.backend = backend;
    if (preferences) this.preferences = preferences;
  }

  /** Reads the vault's preferences; a failure keeps the ones in force. */
  async loadPreferences(): Promise<void> {
    try {
      this.preferences = await this.backend.preferences();
      this.preferencesLoaded = true;
    } catch {
      // the vault is not open, or the settings cannot be read: keep the cached choice
    }
  }

  /**
   * Takes new preferences at once (so a second change made before the first is stored builds on it) and
   * stores them; on failure the previous ones come back. Resolves with the error to show, or null.
   */
  async savePreferences(preferences: Preferences): Promise<KontorError | null> {
    const previous = this.preferences;
    this.preferences = preferences;
    try {
      this.preferences = await this.backend.setPreferences(preferences);
      this.preferencesLoaded = true;
      return null;
    } catch (err) {
      this.preferences = previous;
      return toKontorError(err);
    }
  }

  /** Startup: listen for callbacks first, then ask the core where we stand. */
  async start(): Promise<void> {
    await this.listenForCallbacks();
    markStartup('listening');
    await this.refreshStatus();
  }

  dispose(): void {
    for (const off of this.unlisten) off();
    this.unlisten = [];
  }

  async refreshStatus(): Promise<void> {
    try {
      const status = await this.backend.appStatus();
      markStartup('status-received');
      this.apply(status);
    } catch (err) {
      this.screen = { kind: 'vault-error', error: toKontorError(err) };
    }
  }

  /** Welcome screen → "Get started". */
  async completeOnboarding(): Promise<KontorError | null> {
    return this.act(async () => this.apply(await this.backend.completeOnboarding()));
  }

  async unlock(passphrase: string): Promise<KontorError | null> {
    return this.act(async () => this.apply(await this.backend.unlockVault(passphrase)));
  }

  async createWithPassphrase(passphrase: string): Promise<KontorError | null> {
    return this.act(async () => this.apply(await this.backend.createVaultWithPassphrase(passphrase)));
  }

  /** Moves the vault's key to the OS keyring or to a passphrase; `null` when it worked. */
  async changeKeySource(target: KeySourceDto, passphrase?: string): Promise<KontorError | null> {
    return this.act(async () => this.apply(await this.backend.changeKeySource(target, passphrase)));
  }

  async loadOverview(): Promise<void> {
    if (this.overview.state !== 'ready') this.overview = { state: 'loading' };
    try {
      const data = await this.backend.overview();
      markStartup('overview-received');
      this.overview = { state: 'ready', data };
    } catch (err) {
      this.overview = { state: 'error', error: toKontorError(err) };
    }
  }

  /**
   * The overview page calls this whenever it shows data; the first time, once the frame with the data has been
   * painted, the shell is told once (the cold-start benchmark's end mark). The frame that shows the data runs the
   * next animation frame callback, then lays out and paints; a task queued from that callback runs after the paint.
   * (Waiting for a second animation frame instead measured the start of the frame after, one whole frame later:
   * 230–360 ms under load on this machine.)
   */
  overviewShown(): void {
    if (this.overviewPaintReported) return;
    this.overviewPaintReported = true;
    markStartup('overview-rendered');
    const frame = (next: () => void) =>
      typeof requestAnimationFrame === 'function' ? requestAnimationFrame(next) : setTimeout(next, 16);
    frame(() => {
      markStartup('frame');
      setTimeout(() => {
        markStartup('painted');
        this.backend.overviewPainted(startupMarks()).catch(() => undefined);
      }, 0);
    });
  }

  /** "Link a bank": opens the link-bank dialog (LinkBankDialog runs the flow). */
  linkBank(): void {
    this.resumeFlow = null;
    this.linkIntent = 'link';
    this.dialog = 'link-bank';
  }

  /** "Create an income report": the link dialog, finX providers only, income report chosen. */
  createIncomeReport(): void {
    this.resumeFlow = null;
    this.linkIntent = 'income_report';
    this.dialog = 'link-bank';
  }

  /**
   * Closes the open dialog; after a bank was linked the overview is refreshed, and a report just
   * made is opened.
   */
  closeDialog(linked = false, reportId: string | null = null): void {
    this.dialog = null;
    this.resumeFlow = null;
    if (this.view === 'connections') {
      // a renewal or a sync that asked for the bank: the screen shows its outcome
      void this.loadOverview();
      void this.loadConnections();
      void this.loadHistory(this.historyConnectionId);
    } else if (linked) {
      this.view = 'overview';
      void this.loadOverview();
    }
    if (reportId) void this.openReport(reportId);
  }

  /** The account page: balance chart, monthly sums and the account's transactions. */
  openAccount(accountId: string): void {
    this.accountId = accountId;
    this.view = 'account';
    void this.loadOverview();
  }

  navigate(view: View): void {
    this.view = view;
    if (view === 'connections') {
      this.focusConnectionId = null;
      void this.loadConnections();
      void this.loadHistory(null);
    } else if (view === 'reports') {
      this.selectedReportId = null;
      void this.loadReports();
    } else if (view === 'settings') {
      void this.loadProviders();
    } else {
      void this.loadOverview();
    }
  }

  /** The connections screen, scrolled to one connection when given (from its bank group). */
  openConnections(connectionId: string | null = null): void {
    this.view = 'connections';
    this.focusConnectionId = connectionId;
    void this.loadConnections();
    void this.loadHistory(connectionId);
  }

  async loadConnections(): Promise<void> {
    if (this.connections.state !== 'ready') this.connections = { state: 'loading' };
    try {
      this.connections = { state: 'ready', data: await this.backend.connections() };
    } catch (err) {
      this.connections = { state: 'error', error: toKontorError(err) };
    }
  }

  /** The sync history of one connection, or of all (`null`). */
  async loadHistory(connectionId: string | null): Promise<void> {
    this.historyConnectionId = connectionId;
    if (this.history.state !== 'ready') this.history = { state: 'loading' };
    try {
      const entries = await this.backend.syncHistory(connectionId ?? undefined);
      if (this.historyConnectionId === connectionId) this.history = { state: 'ready', data: entries };
    } catch (err) {
      this.history = { state: 'error', error: toKontorError(err) };
    }
  }

  /** Reloads what shows accounts after a change to them. */
  private async refreshAccounts(): Promise<void> {
    await Promise.all([this.loadOverview(), this.view === 'connections' ? this.loadConnections() : Promise.resolve()]);
  }

  /** Runs one change to connections or accounts; resolves with the error to show, or null. */
  private async change(body: () => Promise<unknown>): Promise<KontorError | null> {
    try {
      await body();
      return null;
    } catch (err) {
      return toKontorError(err);
    } finally {
      await this.refreshAccounts();
    }
  }

  renameAccount(accountId: string, name: string | null): Promise<KontorError | null> {
    return this.change(() => this.backend.renameAccount(accountId, name));
  }

  setAccountHidden(accountId: string, hidden: boolean): Promise<KontorError | null> {
    return this.change(() => this.backend.setAccountHidden(accountId, hidden));
  }

  /** Moves an account one place up (`-1`) or down (`1`) within its connection. */
  moveAccount(connectionId: string, accountId: string, delta: -1 | 1): Promise<KontorError | null> {
    const detail = this.connections.state === 'ready' ? this.connections.data.find((c) => c.connection.id === connectionId) : undefined;
    const ids = detail?.accounts.map((a) => a.id) ?? [];
    const from = ids.indexOf(accountId);
    const to = from + delta;
    if (from < 0 || to < 0 || to >= ids.length) return Promise.resolve(null);
    [ids[from], ids[to]] = [ids[to] as string, ids[from] as string];
    return this.change(() => this.backend.reorderAccounts(connectionId, ids));
  }

  keepAccount(accountId: string): Promise<KontorError | null> {
    return this.change(() => this.backend.keepAccount(accountId));
  }

  /** Removes a connection; resolves with what was removed, or the error to show. */
  async removeConnection(connectionId: string): Promise<RemovedConnection | KontorError> {
    let outcome: RemovedConnection | KontorError;
    try {
      outcome = await this.backend.removeConnection(connectionId);
    } catch (err) {
      outcome = toKontorError(err);
    }
    await this.refreshAccounts();
    if (this.historyConnectionId === connectionId) await this.loadHistory(null);
    return outcome;
  }

  /**
   * Renews a connection's consent: the bank's SCA continues in the sync dialog; the outcome shows as
   * a notice like a sync's.
   */
  async renew(connectionId: string): Promise<void> {
    await this.sync(connectionId, true);
  }

  async loadReports(): Promise<void> {
    if (this.reports.state !== 'ready') this.reports = { state: 'loading' };
    try {
      this.reports = { state: 'ready', data: await this.backend.incomeReports() };
    } catch (err) {
      this.reports = { state: 'error', error: toKontorError(err) };
    }
  }

  /** Shows one stored report (loading the list when it does not hold it yet). */
  async openReport(id: string): Promise<void> {
    this.view = 'reports';
    this.selectedReportId = id;
    const known = this.reports.state === 'ready' && this.reports.data.some((r) => r.id === id);
    if (!known) await this.loadReports();
  }

  async loadProviders(): Promise<void> {
    if (this.providers.state !== 'ready') this.providers = { state: 'loading' };
    try {
      this.providers = { state: 'ready', data: await this.backend.providerConfigs() };
    } catch (err) {
      this.providers = { state: 'error', error: toKontorError(err) };
    }
  }

  /** Adds a provider; resolves with the error to show, or null when it was added. */
  async addProvider(config: NewProviderConfig): Promise<KontorError | null> {
    try {
      await this.backend.addProviderConfig(config);
    } catch (err) {
      return toKontorError(err);
    }
    await this.loadProviders();
    return null;
  }

  /** Syncs one connection, or all (`connectionId` omitted), reporting progress in `syncing`. */
  async sync(connectionId?: string, renew = false): Promise<void> {
    const key = connectionId ?? '*';
    if (this.syncing[key] || this.syncing['*']) return;
    this.syncing = { ...this.syncing, [key]: { step: null } };
    const onProgress: ProgressHandler = (update) => {
      if (update.status === 'working' && this.syncing[key]) {
        this.syncing = { ...this.syncing, [key]: { step: update.step } };
      }
    };
    const bankOf = (id: string | undefined) =>
      (this.overview.state === 'ready' && this.overview.data.connections.find((c) => c.id === id)?.bank_name) || '';
    try {
      const updates = connectionId
        ? [
            renew
              ? await this.backend.renewConsent(connectionId, onProgress)
              : await this.backend.syncConnection(connectionId, onProgress),
          ]
        : await this.backend.syncAll(onProgress);
      const notices: OverviewNotice[] = [];
      updates.forEach((update, i) => {
        const fallback = connectionId ?? (this.overview.state === 'ready' ? this.overview.data.connections[i]?.id : undefined);
        if (update.status === 'done') {
          notices.push({ kind: 'sync-done', bank: update.connection.bank_name, added: update.added });
        } else if (update.status === 'failed') {
          notices.push({ kind: 'sync-failed', bank: bankOf(fallback), error: update.error, connectionId: fallback });
        } else if (update.status === 'needs_input' && !this.resumeFlow) {
          // The bank wants the user (e.g. a TAN): continue in the link dialog.
          this.resumeFlow = { update, bankName: bankOf(fallback), renew };
          this.dialog = 'link-bank';
        }
      });
      this.notices = notices;
    } catch (err) {
      this.notices = [{ kind: 'sync-failed', bank: bankOf(connectionId), error: toKontorError(err), connectionId }];
    } finally {
      const { [key]: _done, ...rest } = this.syncing;
      this.syncing = rest;
      await this.loadOverview();
      if (this.view === 'connections') {
        await Promise.all([this.loadConnections(), this.loadHistory(this.historyConnectionId)]);
      }
    }
  }

  dismissNotice(index: number): void {
    this.notices = this.notices.filter((_, i) => i !== index);
  }

  /**
   * Registers a handler for callback outcomes (used by the link dialog while it waits for a bank
   * redirect). A handler returns true when the outcome was its own; outcomes nobody claims are
   * shown as notices on the overview.
   */
  onCallbackResult(handler: CallbackHandler): Unsubscribe {
    this.callbackHandlers = [...this.callbackHandlers, handler];
    return () => {
      this.callbackHandlers = this.callbackHandlers.filter((h) => h !== handler);
    };
  }

  /** Progress of a flow continuing after a callback (no command of the UI started it). */
  onFlowProgress(handler: ProgressHandler): Unsubscribe {
    this.progressHandlers = [...this.progressHandlers, handler];
    return () => {
      this.progressHandlers = this.progressHandlers.filter((h) => h !== handler);
    };
  }

  private apply(status: AppStatus): void {
    this.status = status;
    const next = screenFor(status);
    this.screen = next;
    if (next.kind === 'overview' && this.overview.state !== 'ready') void this.loadOverview();
    if ((next.kind === 'overview' || next.kind === 'welcome') && !this.preferencesLoaded) void this.loadPreferences();
  }

  private async act(body: () => Promise<void>): Promise<KontorError | null> {
    if (this.busy) return null;
    this.busy = true;
    try {
      await body();
      return null;
    } catch (err) {
      return toKontorError(err);
    } finally {
      this.busy = false;
    }
  }

  /**
   * The shell hands every kontor:// URL to the core itself and keeps each outcome until
   * `take_callback_results` drains it; the event is only a nudge to drain, so an outcome is shown
   * exactly once, including those from before the UI was listening.
   */
  private async listenForCallbacks(): Promise<void> {
    try {
      this.unlisten.push(await this.backend.onCallbackResult(() => void this.drainCallbacks()));
      this.unlisten.push(
        await this.backend.onFlowProgress((update) => {
          for (const handler of this.progressHandlers) handler(update);
        }),
      );
    } catch (err) {
      console.warn('kontor: cannot listen for callbacks', toKontorError(err));
    }
    await this.drainCallbacks();
  }

  async drainCallbacks(): Promise<void> {
    let results: CallbackResult[];
    try {
      results = await this.backend.takeCallbackResults();
    } catch (err) {
      console.warn('kontor: cannot take callback results', toKontorError(err));
      return;
    }
    for (const result of results) this.dispatchCallback(result);
  }

  private dispatchCallback(result: CallbackResult): void {
    for (const handler of this.callbackHandlers) {
      if (handler(result) === true) return;
    }
    // Nobody waits for it (e.g. the app was restarted while the bank page was open): tell the user.
    if (result.kind === 'error') {
      this.notices = [...this.notices, { kind: 'callback-refused', error: result.error }];
    } else if (result.update.status === 'done') {
      this.notices = [...this.notices, { kind: 'callback-linked', bank: result.update.connection.bank_name }];
      if (this.screen.kind === 'overview') void this.loadOverview();
    } else if (result.update.status === 'failed') {
      this.notices = [...this.notices, { kind: 'callback-refused', error: result.update.error }];
    } else if (result.update.status === 'needs_input') {
      this.resumeFlow = { update: result.update, bankName: '' };
      this.dialog = 'link-bank';
    } else if (result.update.status === 'report_ready') {
      this.notices = [...this.notices, { kind: 'report-ready', reportId: result.update.report.id }];
      void this.loadReports();
    }
  }
}
