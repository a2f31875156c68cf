import type {
  ConnectionAccount,
  ConnectionDetail,
  RemovedConnection,
  SyncEntry,
  Preferences,
  AccountSummary,
  AppStatus,
  BankSearchHit,
  ConnectionSummary,
  CurrencyTotal,
  FlowUpdate,
  KeySourceDto,
  KontorError,
  NewProviderConfig,
  Overview,
  PendingFlow,
  ProviderConfigSummary,
  StartFinxLink,
  StartLink,
  StoredIncomeReport,
  UserAnswer,
  VaultState,
} from '../../bindings';
import { sumDecimals } from '../format/decimal';
import { kontorError, toKontorError } from './errors';
import { FAKE_DEMO_PROVIDER, FakeLinking } from './fakeLink';
import type { Locale } from '../i18n/types';
import { toCsv, toJsonExport } from '../transactions/csv';
import { FakeLedger } from './fakeTransactions';
import type {
  BalancePoint,
  Backend,
  CallbackResult,
  ExportFormat,
  MonthlySums,
  ProgressHandler,
  TransactionDetail,
  TransactionExportQuery,
  TransactionFilter,
  TransactionPage,
  TransactionQuery,
  Unsubscribe,
} from './types';

/** The whole state of the fake core. Every field can be set up front; tests may also mutate it. */
export interface FakeState {
  vault: VaultState;
  firstRun: boolean;
  dataDir: string;
  keySource: KeySourceDto | null;
  /** The passphrase that unlocks a `needs_passphrase` vault. */
  passphrase: string;
  connections: ConnectionSummary[];
  accounts: AccountSummary[];
  /** Callback outcomes waiting for `takeCallbackResults` (as the Rust inbox keeps them). */
  inbox: CallbackResult[];
  providers: ProviderConfigSummary[];
  /** URLs passed to `openInBrowser`. */
  opened: string[];
  /** Stored income reports, newest first. */
  reports: StoredIncomeReport[];
  /** Client secrets passed to `addProviderConfig`, by provider id (the keyring, in the fake). */
  secrets: Record<string, string>;
  /** The vault's language and theme settings. */
  preferences: Preferences;
  /**
   * How many transactions the accounts have (generated on demand from the index, see
   * fakeTransactions.ts, so 1,000,000 costs nothing until asked for).
   */
  transactionCount: number;
  /** Where the next export "saves" (the save dialog's answer); null = the user cancels. */
  exportPath: string | null;
  /** Files written by `exportTransactions`. */
  exports: { path: string; format: ExportFormat; locale: Locale; content: string }[];
  /** Accounts the user hid (ids); Kontor's own names by account id (the vault's columns). */
  hidden: string[];
  customNames: Record<string, string>;
  /** The sync journal, newest first. */
  history: SyncEntry[];
  /** OS notifications shown. */
  notifications: { title: string; body: string }[];
}

export type FakeMethod = Exclude<keyof Backend, 'kind'>;

export interface FakeOptions {
  /** Artificial latency per call in ms (0 in tests; a little in the browser so loading states show). */
  latencyMs?: number;
}

export const FAKE_DATA_DIR = '/home/you/.local/share/kontor';

export function defaultFakeState(): FakeState {
  return {
    vault: { state: 'ready' },
    firstRun: true,
    dataDir: FAKE_DATA_DIR,
    keySource: 'keyring',
    passphrase: 'correct horse battery staple',
    connections: [],
    accounts: [],
    inbox: [],
    providers: [FAKE_DEMO_PROVIDER],
    opened: [],
    reports: [],
    secrets: {},
    preferences: { language: 'system', theme: 'system' },
    transactionCount: 0,
    exportPath: '/home/you/Documents/kontor-transactions',
    exports: [],
    hidden: [],
    customNames: {},
    history: [],
    notifications: [],
  };
}

/**
 * In-memory Backend that behaves like the Rust core for the commands the UI uses: vault states,
 * onboarding, overview totals (exact decimal sums), the callback inbox. Used by the unit tests and
 * by `npm run dev` in a plain browser.
 */
export class FakeBackend implements Backend {
  readonly kind = 'fake' as const;
  readonly state: FakeState;
  /** Every call in order, e.g. `["appStatus", "completeOnboarding", "overview"]`. */
  readonly calls: FakeMethod[] = [];
  /** How often the UI reported its first painted overview (kept out of `calls`: a report, not a question). */
  overviewPaints = 0;
  /** Connections whose next syncs ask for a TAN first (continued in the dialog). */
  readonly syncNeedsTan = new Set<string>();
  private readonly failures = new Map<FakeMethod, KontorError[]>();
  private readonly listeners = new Set<() => void>();
  private readonly progressListeners = new Set<ProgressHandler>();
  private readonly latencyMs: number;
  private ledgerCache: { key: string; ledger: FakeLedger } | null = null;
  /** The scripted Demo Bank flows (see fakeLink.ts). */
  readonly linking = new FakeLinking({
    link: (connection, accounts) => {
      this.state.connections.push(connection);
      this.state.accounts.push(...accounts);
    },
    report: (report) => {
      this.state.reports.unshift(report);
    },
  });

  constructor(initial: Partial<FakeState> = {}, options: FakeOptions = {}) {
    this.state = { ...defaultFakeState(), ...structuredClone(initial) };
    this.latencyMs = options.latencyMs ?? 0;
  }

  /** Makes the next call of `method` reject with `error` (queue several for several calls). */
  failNext(method: FakeMethod, error: KontorError): this {
    const queue = this.failures.get(method) ?? [];
    queue.push(error);
    this.failures.set(method, queue);
    return this;
  }

  /**
   * Simulates a kontor:// URL arriving from the OS: like the shell, the fake core handles it at once
   * (continuing the redirect flow with its `state`, or refusing it) and keeps the outcome.
   */
  deliverCallback(url: string): void {
    let result: CallbackResult;
    try {
      result = { kind: 'update', update: this.linking.callback(url) };
    } catch (err) {
      result = { kind: 'error', error: toKontorError(err) };
    }
    this.state.inbox.push(result);
    for (const listener of this.listeners) listener();
  }

  appStatus(): Promise<AppStatus> {
    return this.run('appStatus', () => this.status());
  }

  createVaultWithPassphrase(passphrase: string): Promise<AppStatus> {
    return this.run('createVaultWithPassphrase', () => {
      if (this.state.vault.state !== 'keyring_unavailable') {
        throw kontorError('InvalidInput', 'A vault already exists.');
      }
      if ([...passphrase].length < 8) {
        throw kontorError('InvalidInput', 'The passphrase must be at least 8 characters long.');
      }
      this.state.passphrase = passphrase;
      this.state.keySource = 'passphrase';
      this.state.vault = { state: 'ready' };
      this.state.firstRun = true;
      return this.status();
    });
  }

  unlockVault(passphrase: string): Promise<AppStatus> {
    return this.run('unlockVault', () => {
      if (this.state.vault.state === 'ready') return this.status();
      if (this.state.vault.state !== 'needs_passphrase') {
        throw kontorError('VaultLocked', 'The vault cannot be unlocked with a passphrase.');
      }
      if (passphrase !== this.state.passphrase) {
        throw kontorError('VaultWrongKey', 'That passphrase does not unlock this vault.');
      }
      this.state.vault = { state: 'ready' };
      return this.status();
    });
  }

  changeKeySource(target: KeySourceDto, passphrase?: string): Promise<AppStatus> {
    return this.run('changeKeySource', () => {
      this.requireReady();
      if (target === 'passphrase') {
        if (passphrase === undefined) throw kontorError('InvalidInput', 'A passphrase is needed to protect the vault.');
        if ([...passphrase].length < 8) {
          throw kontorError('InvalidInput', 'The passphrase must be at least 8 characters long.');
        }
        this.state.passphrase = passphrase;
      }
      this.state.keySource = target;
      return this.status();
    });
  }

  completeOnboarding(): Promise<AppStatus> {
    return this.run('completeOnboarding', () => {
      this.requireReady();
      this.state.firstRun = false;
      return this.status();
    });
  }

  preferences(): Promise<Preferences> {
    return this.run('preferences', () => {
      this.requireReady();
      return structuredClone(this.state.preferences);
    });
  }

  setPreferences(preferences: Preferences): Promise<Preferences> {
    return this.run('setPreferences', () => {
      this.requireReady();
      this.state.preferences = structuredClone(preferences);
      return structuredClone(this.state.preferences);
    });
  }

  overviewPainted(): Promise<void> {
    this.overviewPaints += 1;
    return Promise.resolve();
  }

  overview(): Promise<Overview> {
    return this.run('overview', () => {
      this.requireReady();
      const accounts = this.visibleAccounts();
      const byCurrency = new Map<string, string[]>();
      for (const account of accounts) {
        if (account.balance_booked === null || account.duplicate_of) continue;
        const list = byCurrency.get(account.currency) ?? [];
        list.push(account.balance_booked);
        byCurrency.set(account.currency, list);
      }
      const totals: CurrencyTotal[] = [...byCurrency.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([currency, amounts]) => ({ currency, amount: sumDecimals(amounts) }));
      return structuredClone({ accounts, totals, connections: this.state.connections });
    });
  }

  /** The accounts the overview shows: not hidden, with the user's names, duplicates marked (as the core does). */
  private visibleAccounts(): AccountSummary[] {
    const visible = this.state.accounts.filter((a) => !this.state.hidden.includes(a.id));
    const once = (a: AccountSummary) =>
      this.state.connections.find((c) => c.id === a.connection_id)?.access_kind === 'finx_onetime';
    const compact = (iban: string | null) => (iban ?? '').replace(/\s+/g, '').toUpperCase();
    return visible.map((a) => {
      const custom = this.state.customNames[a.id];
      const shown: AccountSummary = custom ? { ...a, name: custom, bank_account_name: a.name } : { ...a };
      const iban = compact(a.iban);
      const kept = iban
        ? visible.filter((b) => compact(b.iban) === iban).sort((x, y) => Number(once(x)) - Number(once(y)))[0]
        : undefined;
      if (kept && kept.id !== a.id) shown.duplicate_of = kept.id;
      return shown;
    });
  }

  /** The generated transactions of the current accounts (rebuilt when accounts or count change). */
  ledger(): FakeLedger {
    const key = `${this.state.transactionCount}|${this.state.accounts.map((a) => `${a.id}:${a.balance_booked}`).join(',')}`;
    if (this.ledgerCache?.key !== key) {
      this.ledgerCache = { key, ledger: new FakeLedger(this.state.accounts, { count: this.state.transactionCount }) };
    }
    return this.ledgerCache.ledger;
  }

  /**
   * A filter that names no account covers the accounts the overview counts, as in the core: hidden
   * accounts and a second account with an IBAN another one holds are left out.
   */
  private scoped<Q extends TransactionFilter>(query: Q): Q {
    if (query.accounts && query.accounts.length > 0) return query;
    const counted = this.visibleAccounts().filter((a) => !a.duplicate_of);
    if (counted.length === this.state.accounts.length) return query;
    return { ...query, accounts: counted.map((a) => a.id) };
  }

  transactions(query: TransactionQuery): Promise<TransactionPage> {
    return this.run('transactions', () => {
      this.requireReady();
      return this.ledger().page(this.scoped(query));
    });
  }

  transaction(id: string): Promise<TransactionDetail> {
    return this.run('transaction', () => {
      this.requireReady();
      const ledger = this.ledger();
      const index = ledger.indexOf(id);
      if (index === null) throw kontorError('NotFound', 'There is no transaction with this id.');
      return ledger.detail(index);
    });
  }

  accountMonthlySums(accountId: string): Promise<MonthlySums[]> {
    return this.run('accountMonthlySums', () => {
      this.requireReady();
      return this.ledger().monthlySums(accountId);
    });
  }

  accountBalanceSeries(accountId: string): Promise<BalancePoint[]> {
    return this.run('accountBalanceSeries', () => {
      this.requireReady();
      return this.ledger().balanceSeries(accountId);
    });
  }

  exportTransactions(query: TransactionExportQuery, format: ExportFormat, locale: Locale): Promise<string | null> {
    return this.run('exportTransactions', () => {
      this.requireReady();
      if (this.state.exportPath === null) return null;
      const rows = this.ledger().all(this.scoped(query));
      const path = `${this.state.exportPath}.${format}`;
      const names = Object.fromEntries(this.state.accounts.map((a) => [a.id, this.state.customNames[a.id] ?? a.name]));
      const content = format === 'csv' ? toCsv(rows, locale, names) : toJsonExport(rows);
      this.state.exports.push({ path, format, locale, content });
      return path;
    });
  }

  providerConfigs(): Promise<ProviderConfigSummary[]> {
    return this.run('providerConfigs', () => {
      this.requireReady();
      return structuredClone(this.state.providers);
    });
  }

  addProviderConfig(config: NewProviderConfig): Promise<ProviderConfigSummary> {
    return this.run('addProviderConfig', () => {
      this.requireReady();
      let apiVersion = 'finx';
      if (config.kind === 'finapi') {
        apiVersion = (config.api_version ?? 'v2').trim().toLowerCase();
        if (apiVersion !== 'v1' && apiVersion !== 'v2') throw kontorError('InvalidInput', 'The finAPI API version must be v1 or v2.');
      }
      const baseUrl = config.base_url.trim().replace(/\/+$/, '');
      if (!/^https?:\/\/[^/\s]+/i.test(baseUrl)) {
        throw kontorError('InvalidInput', 'The provider address must start with https:// (or http:// locally).');
      }
      if (config.client_id.trim() === '') throw kontorError('InvalidInput', 'Enter the client id.');
      const summary: ProviderConfigSummary = {
        id: `provider-${this.state.providers.length + 1}`,
        kind: config.kind,
        label: config.label.trim() || (config.kind === 'finapi' ? 'finAPI' : 'finX'),
        base_url: baseUrl,
        client_id: config.client_id.trim(),
        api_version: apiVersion,
        is_demo: false,
      };
      this.state.providers.push(summary);
      this.state.secrets[summary.id] = config.client_secret;
      return structuredClone(summary);
    });
  }

  startFinxLink(request: StartFinxLink, onProgress?: ProgressHandler): Promise<FlowUpdate> {
    return this.run('startFinxLink', () => {
      this.requireProvider(request.provider_config_id);
      const provider = this.state.providers.find((p) => p.id === request.provider_config_id);
      if (provider?.kind !== 'finx') throw kontorError('InvalidInput', 'This provider configuration is not a finX one.');
      onProgress?.({ status: 'working', flow_id: null, step: 'authorizing' });
      return this.linking.startFinx(request.flow);
    });
  }

  incomeReports(): Promise<StoredIncomeReport[]> {
    return this.run('incomeReports', () => {
      this.requireReady();
      return structuredClone(this.state.reports);
    });
  }

  incomeReport(id: string): Promise<StoredIncomeReport> {
    return this.run('incomeReport', () => {
      this.requireReady();
      const found = this.state.reports.find((r) => r.id === id);
      if (!found) throw kontorError('NotFound', 'There is no income report with this id.');
      return structuredClone(found);
    });
  }

  searchBanks(providerConfigId: string, query: string): Promise<BankSearchHit[]> {
    return this.run('searchBanks', () => {
      this.requireProvider(providerConfigId);
      return this.linking.search(query);
    });
  }

  startLink(request: StartLink, onProgress?: ProgressHandler): Promise<FlowUpdate> {
    return this.run('startLink', () => {
      this.requireProvider(request.provider_config_id);
      onProgress?.({ status: 'working', flow_id: null, step: 'authorizing' });
      return this.linking.start(request.bank_id);
    });
  }

  answerFlow(flowId: string, answer: UserAnswer, onProgress?: ProgressHandler): Promise<FlowUpdate> {
    return this.run('answerFlow', () => {
      this.requireReady();
      onProgress?.({ status: 'working', flow_id: flowId, step: 'authorizing' });
      const update = this.linking.answer(flowId, answer);
      if (update.status === 'done') {
        onProgress?.({ status: 'working', flow_id: flowId, step: 'downloading' });
        onProgress?.({ status: 'working', flow_id: flowId, step: 'saving' });
      }
      return update;
    });
  }

  cancelFlow(flowId: string): Promise<FlowUpdate> {
    return this.run('cancelFlow', () => this.linking.cancel(flowId));
  }

  pendingFlows(): Promise<PendingFlow[]> {
    return this.run('pendingFlows', () => this.linking.pending());
  }

  syncConnection(connectionId: string, onProgress?: ProgressHandler): Promise<FlowUpdate> {
    return this.run('syncConnection', () => this.syncOne(connectionId, onProgress));
  }

  syncAll(onProgress?: ProgressHandler): Promise<FlowUpdate[]> {
    return this.run('syncAll', () => this.state.connections.map((c) => this.syncOne(c.id, onProgress)));
  }

  openInBrowser(url: string): Promise<void> {
    return this.run('openInBrowser', () => {
      if (!/^https?:\/\//i.test(url)) throw kontorError('InvalidInput', 'Only web addresses can be opened.');
      this.state.opened.push(url);
    });
  }

  connections(): Promise<ConnectionDetail[]> {
    return this.run('connections', () => {
      this.requireReady();
      const duplicates = new Map(this.visibleAccounts().map((a) => [a.id, a.duplicate_of ?? null]));
      return structuredClone(
        this.state.connections.map((connection): ConnectionDetail => {
          const accounts: ConnectionAccount[] = this.state.accounts
            .filter((a) => a.connection_id === connection.id)
            .map((a) => ({
              id: a.id,
              name: this.state.customNames[a.id] ?? a.name,
              bank_account_name: a.name,
              custom_name: this.state.customNames[a.id] ?? null,
              iban: a.iban,
              account_type: a.account_type,
              currency: a.currency,
              balance_booked: a.balance_booked,
              hidden: this.state.hidden.includes(a.id),
              transaction_count: 120,
              duplicate_of: duplicates.get(a.id) ?? null,
            }));
          const once = connection.access_kind === 'finx_onetime';
          return {
            connection,
            provider_label: connection.access_kind ? 'Demo Bank (finX)' : 'Demo Bank (offline)',
            provider_kind: connection.access_kind ? 'finx' : 'finapi',
            is_demo: true,
            interface: connection.access_kind ? (once ? 'finx-onetime' : 'finx-ongoing') : 'XS2A',
            last_sync: this.state.history.find((h) => h.connection_id === connection.id) ?? null,
            accounts,
            transaction_count: accounts.reduce((n, a) => n + a.transaction_count, 0),
            can_renew: !connection.access_kind,
            needs_attention: connection.deadline_warnings.length > 0,
          };
        }),
      );
    });
  }

  renameAccount(accountId: string, name: string | null): Promise<void> {
    return this.run('renameAccount', () => {
      this.requireAccount(accountId);
      const trimmed = name?.trim() ?? '';
      if (trimmed.length > 80) throw kontorError('InvalidInput', 'An account name can have at most 80 characters.');
      if (trimmed) this.state.customNames[accountId] = trimmed;
      else delete this.state.customNames[accountId];
    });
  }

  setAccountHidden(accountId: string, hidden: boolean): Promise<void> {
    return this.run('setAccountHidden', () => {
      this.requireAccount(accountId);
      this.state.hidden = this.state.hidden.filter((id) => id !== accountId);
      if (hidden) this.state.hidden.push(accountId);
    });
  }

  reorderAccounts(connectionId: string, ordered: string[]): Promise<void> {
    return this.run('reorderAccounts', () => {
      this.requireReady();
      const held = this.state.accounts.filter((a) => a.connection_id === connectionId);
      const same = held.length === ordered.length && held.every((a) => ordered.includes(a.id));
      if (!same || held.length === 0) throw kontorError('InvalidInput', 'List every account of this connection exactly once.');
      const others = this.state.accounts.filter((a) => a.connection_id !== connectionId);
      const first = this.state.accounts.findIndex((a) => a.connection_id === connectionId);
      const sorted = ordered.map((id) => held.find((a) => a.id === id) as AccountSummary);
      others.splice(first, 0, ...sorted);
      this.state.accounts = others;
    });
  }

  keepAccount(accountId: string): Promise<void> {
    return this.run('keepAccount', () => {
      const kept = this.requireAccount(accountId);
      const iban = (kept.iban ?? '').replace(/\s+/g, '').toUpperCase();
      if (!iban) throw kontorError('InvalidInput', 'This account has no IBAN to compare.');
      const others = this.state.accounts.filter((a) => a.id !== accountId && (a.iban ?? '').replace(/\s+/g, '').toUpperCase() === iban);
      this.state.hidden = [...this.state.hidden.filter((id) => id !== accountId), ...others.map((a) => a.id)];
    });
  }

  syncHistory(connectionId?: string): Promise<SyncEntry[]> {
    return this.run('syncHistory', () => {
      this.requireReady();
      return structuredClone(this.state.history.filter((h) => !connectionId || h.connection_id === connectionId));
    });
  }

  removeConnection(connectionId: string): Promise<RemovedConnection> {
    return this.run('removeConnection', () => {
      this.requireReady();
      if (!this.state.connections.some((c) => c.id === connectionId)) {
        throw kontorError('NotFound', 'This connection does not exist.');
      }
      const accounts = this.state.accounts.filter((a) => a.connection_id === connectionId);
      this.state.connections = this.state.connections.filter((c) => c.id !== connectionId);
      this.state.accounts = this.state.accounts.filter((a) => a.connection_id !== connectionId);
      this.state.history = this.state.history.filter((h) => h.connection_id !== connectionId);
      return { accounts: accounts.length, transactions: accounts.length * 120, deleted_at_provider: true, secrets_removed: this.state.connections.length === 0 };
    });
  }

  renewConsent(connectionId: string, onProgress?: ProgressHandler): Promise<FlowUpdate> {
    return this.run('renewConsent', () => {
      const connection = this.state.connections.find((c) => c.id === connectionId);
      if (connection?.access_kind) {
        throw kontorError('NotSupported', 'finX renews a consent only in its own window: link this bank again through finX.');
      }
      const update = this.syncOne(connectionId, onProgress);
      if (connection && update.status === 'done') {
        connection.consent_expires_at = new Date(Date.now() + 90 * 86_400_000).toISOString();
        connection.consent_days_left = 90;
        connection.deadline_warnings = [];
        return { ...update, connection: structuredClone(connection) };
      }
      return update;
    });
  }

  notify(title: string, body: string): Promise<void> {
    return this.run('notify', () => {
      this.state.notifications.push({ title, body });
    });
  }

  takeCallbackResults(): Promise<CallbackResult[]> {
    return this.run('takeCallbackResults', () => this.state.inbox.splice(0));
  }

  pasteCallback(url: string): Promise<void> {
    return this.run('pasteCallback', () => {
      const trimmed = url.trim();
      if (!trimmed.startsWith('kontor://')) {
        throw kontorError('InvalidInput', 'That is not the address your bank sent you back to.');
      }
      // like the shell: handled after the call returns, the outcome goes to the inbox
      queueMicrotask(() => this.deliverCallback(trimmed));
    });
  }

  onCallbackResult(handler: () => void): Promise<Unsubscribe> {
    return this.run('onCallbackResult', () => {
      this.listeners.add(handler);
      return () => {
        this.listeners.delete(handler);
      };
    });
  }

  onFlowProgress(handler: ProgressHandler): Promise<Unsubscribe> {
    return this.run('onFlowProgress', () => {
      this.progressListeners.add(handler);
      return () => {
        this.progressListeners.delete(handler);
      };
    });
  }

  private syncOne(connectionId: string, onProgress?: ProgressHandler): FlowUpdate {
    this.requireReady();
    const connection = this.state.connections.find((c) => c.id === connectionId);
    if (!connection) throw kontorError('NotFound', 'This connection does not exist.');
    if (connection.access_kind === 'finx_onetime') {
      throw kontorError('NotSupported', 'This was a one-time access: Kontor kept no access to the bank. Link it again to see new data.');
    }
    if (this.syncNeedsTan.has(connectionId)) return this.linking.startSyncTan(connection);
    onProgress?.({ status: 'working', flow_id: null, step: 'downloading' });
    connection.last_synced_at = new Date().toISOString();
    this.state.history.unshift({
      id: this.state.history.length + 1,
      connection_id: connectionId,
      bank_name: connection.bank_name,
      started_at: connection.last_synced_at,
      finished_at: connection.last_synced_at,
      outcome: 'succeeded',
      added: 0,
      updated: 0,
      removed: 0,
      error: null,
      warnings: [],
    });
    return { status: 'done', connection: structuredClone(connection), added: 0, updated: 0, warnings: [] };
  }

  private requireAccount(id: string): AccountSummary {
    this.requireReady();
    const account = this.state.accounts.find((a) => a.id === id);
    if (!account) throw kontorError('NotFound', 'This account does not exist.');
    return account;
  }

  private requireProvider(id: string): void {
    this.requireReady();
    if (!this.state.providers.some((p) => p.id === id)) {
      throw kontorError('NotFound', 'This provider configuration does not exist.');
    }
  }

  private status(): AppStatus {
    const ready = this.state.vault.state === 'ready';
    return structuredClone({
      vault: this.state.vault,
      first_run: ready && this.state.firstRun,
      data_dir: this.state.dataDir,
      key_source: this.state.keySource,
    });
  }

  private requireReady(): void {
    if (this.state.vault.state !== 'ready') throw kontorError('VaultLocked', 'The vault is locked.');
  }

  private async run<T>(method: FakeMethod, body: () => T): Promise<T> {
    this.calls.push(method);
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    else await Promise.resolve();
    const failure = this.failures.get(method)?.shift();
    if (failure) throw structuredClone(failure);
    return body();
  }
}
