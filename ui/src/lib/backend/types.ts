import type {
  ConnectionDetail,
  RemovedConnection,
  SyncEntry,
  Preferences,
  AppStatus,
  BankSearchHit,
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
  MonthlyFlow,
  PendingMatch,
  TransactionDetail as CoreTransactionDetail,
  TransactionPage as CoreTransactionPage,
  TransactionQuery as CoreTransactionQuery,
} from '../../bindings';
import type { Locale } from '../i18n/types';
import type { StartupMark } from '../app/startupMarks';

export type Unsubscribe = () => void;

// ---------------------------------------------------------------------------------------------
// Transactions, as the screens use them; coreTransactions.ts maps them to and from the core's types.
// Every amount is an exact decimal string as rust_decimal prints it ("-12.5", "2800.00"), never a float.
// ---------------------------------------------------------------------------------------------

export type TransactionStatus = 'booked' | 'pending';
export type TransactionDirection = 'in' | 'out';
export type TransactionOrder = 'newest' | 'oldest';
export type ExportFormat = 'csv' | 'json';

/**
 * Which transactions: every field is optional and narrows the set (absent = no condition).
 * `from`/`to` are inclusive booking dates (YYYY-MM-DD). `min`/`max` are inclusive bounds on the
 * amount's magnitude (|amount|), so "50 to 100" finds both +75 and -75; `direction` picks the sign
 * (`in`: amount > 0, `out`: amount < 0). `text` is a full-text search over counterparty name and
 * IBAN, purpose and kind: every whitespace-separated word of it must be a prefix of a word there,
 * case- and diacritics-insensitive ("uber" finds "Überweisung").
 */
export interface TransactionFilter {
  accounts?: string[];
  from?: string;
  to?: string;
  min?: string;
  max?: string;
  direction?: TransactionDirection;
  status?: TransactionStatus;
  text?: string;
}

/**
 * One page of a keyset-paged list. Order is (booking_date, id) descending for `newest`, ascending
 * for `oldest`. `after` is the `next_cursor` of the previous page (null/absent: the first page).
 */
export interface TransactionQuery extends TransactionFilter {
  order: TransactionOrder;
  after?: string | null;
  limit: number;
}

/** What an export covers: the filter and the order of the list on screen (no paging). */
export interface TransactionExportQuery extends TransactionFilter {
  order: TransactionOrder;
}

export interface TransactionRow {
  id: string;
  account_id: string;
  /** YYYY-MM-DD */
  booking_date: string;
  /** YYYY-MM-DD */
  value_date: string | null;
  /** Signed decimal string: negative is money out. */
  amount: string;
  currency: string;
  counterparty_name: string | null;
  counterparty_iban: string | null;
  purpose: string | null;
  /** The bank's booking kind, e.g. "Kartenzahlung", "Lastschrift". */
  kind: string | null;
  status: TransactionStatus;
  /** The account's booked balance after this booking, where the bank gave it or it could be derived. */
  running_balance: string | null;
}

export interface TransactionPage {
  rows: TransactionRow[];
  /** Pass as `after` for the next page; null on the last page. */
  next_cursor: string | null;
  /** How many transactions match the filter (all pages). */
  total_count: number;
  /** Exact sum of `amount` over all matching transactions (all pages). */
  total_sum: string;
}

export interface TransactionDetail extends TransactionRow {
  /** The provider's JSON for this booking, as stored. */
  raw: string;
  /** Set when a sync turned a pending booking into this booked one: the rule and the fields it compared. */
  pending_match: PendingMatch | null;
}

export interface MonthlySums {
  /** YYYY-MM */
  month: string;
  /** Sum of booked incoming amounts (>= 0). */
  income: string;
  /** Sum of booked outgoing amounts as a magnitude (>= 0). */
  spending: string;
}

export interface BalancePoint {
  /** YYYY-MM-DD */
  date: string;
  /** Booked balance at the end of that day. */
  balance: string;
}

/** Receives the `working` steps of a long job (linking, an answer, a sync) while it runs. */
export type ProgressHandler = (update: FlowUpdate) => void;

/**
 * What handling one `kontor://` callback came to. The shell hands every callback URL to the core
 * itself (even before the UI is loaded) and keeps the outcome until the UI takes it. Defined by
 * the shell (src-tauri/src/deep_link.rs), so not in bindings.ts.
 */
export type CallbackResult = { kind: 'update'; update: FlowUpdate } | { kind: 'error'; error: KontorError };

/**
 * Everything the UI asks of the Rust core. Two implementations: `TauriBackend` (IPC to the real
 * core) and `FakeBackend` (in memory, for tests and for `npm run dev` in a plain browser).
 *
 * Contract: every method resolves with the command's result or rejects with a `KontorError`
 * (`{code, message, bank_message?, retry_at?}`), never with anything else.
 *
 * Adding a command: add it to `Commands` (name, args, result as in Rust), add a method here,
 * a one-line method in TauriBackend and a behaviour in FakeBackend.
 */
export interface Backend {
  readonly kind: 'tauri' | 'fake';

  // Vault and onboarding
  appStatus(): Promise<AppStatus>;
  /** Only when no system keyring answered (`vault.state === "keyring_unavailable"`). */
  createVaultWithPassphrase(passphrase: string): Promise<AppStatus>;
  unlockVault(passphrase: string): Promise<AppStatus>;
  /**
   * Re-encrypts the open vault under a new key: a random one kept in the OS keyring, or one derived
   * from `passphrase` (required for `"passphrase"`, at least 8 characters).
   */
  changeKeySource(target: KeySourceDto, passphrase?: string): Promise<AppStatus>;
  completeOnboarding(): Promise<AppStatus>;
  /** Language and theme, stored in the vault (needs the open vault). */
  preferences(): Promise<Preferences>;
  setPreferences(preferences: Preferences): Promise<Preferences>;

  // Data
  overview(): Promise<Overview>;
  /**
   * Tells the shell the first overview is on screen (called once, two frames after it rendered); the app prints
   * a timestamp for `make bench` when KONTOR_REPORT_FIRST_PAINT is set, and does nothing otherwise.
   */
  /** The first overview was painted; `marks` are the UI's startup timeline. */
  overviewPainted(marks: StartupMark[]): Promise<void>;

  // Transactions
  /** One keyset page of the filtered list, with the count and exact sum of the whole filtered set. */
  transactions(query: TransactionQuery): Promise<TransactionPage>;
  /** Every field of one transaction, with the raw provider data. NotFound for an unknown id. */
  transaction(id: string): Promise<TransactionDetail>;
  /** Booked income and spending per calendar month, oldest month first. */
  accountMonthlySums(accountId: string): Promise<MonthlySums[]>;
  /** End-of-day booked balance for each day with bookings, oldest first (from stored balances and bookings). */
  accountBalanceSeries(accountId: string): Promise<BalancePoint[]>;
  /**
   * Writes the filtered set to a file the user picks in a native save dialog (CSV as `toCsv` in
   * lib/transactions/csv.ts defines it for `locale`, or JSON: an array of TransactionRow).
   * Resolves with the saved path, or null when the user cancelled the dialog.
   */
  exportTransactions(query: TransactionExportQuery, format: ExportFormat, locale: Locale): Promise<string | null>;

  // Linking and syncing
  providerConfigs(): Promise<ProviderConfigSummary[]>;
  /** Adds a real finAPI or finX provider (the client secret goes to the OS keyring). */
  addProviderConfig(config: NewProviderConfig): Promise<ProviderConfigSummary>;
  searchBanks(providerConfigId: string, query: string): Promise<BankSearchHit[]>;
  startLink(request: StartLink, onProgress?: ProgressHandler): Promise<FlowUpdate>;
  /** A finX widget flow: answers with `open_browser` (the widget); the callback completes it. */
  startFinxLink(request: StartFinxLink, onProgress?: ProgressHandler): Promise<FlowUpdate>;
  answerFlow(flowId: string, answer: UserAnswer, onProgress?: ProgressHandler): Promise<FlowUpdate>;
  cancelFlow(flowId: string): Promise<FlowUpdate>;
  pendingFlows(): Promise<PendingFlow[]>;
  syncConnection(connectionId: string, onProgress?: ProgressHandler): Promise<FlowUpdate>;
  syncAll(onProgress?: ProgressHandler): Promise<FlowUpdate[]>;
  /** Opens an http(s) URL in the system browser (never in the app window). */
  openInBrowser(url: string): Promise<void>;

  // Connections the user controls
  /** Every connection with its provider, deadlines, last sync and accounts (hidden ones included). */
  connections(): Promise<ConnectionDetail[]>;
  /** Kontor's own name for an account (null or blank: the bank's again). */
  renameAccount(accountId: string, name: string | null): Promise<void>;
  /** Hides an account from the overview and the total, or shows it again. */
  setAccountHidden(accountId: string, hidden: boolean): Promise<void>;
  /** The order of a connection's accounts: every account id of the connection, each once. */
  reorderAccounts(connectionId: string, ordered: string[]): Promise<void>;
  /** Settles a duplicate IBAN: keeps this account, hides the others with its IBAN. */
  keepAccount(accountId: string): Promise<void>;
  /** The sync journal, newest first: one connection's, or all. */
  syncHistory(connectionId?: string): Promise<SyncEntry[]>;
  /** Removes a connection at the provider (where it can) and from the vault. */
  removeConnection(connectionId: string): Promise<RemovedConnection>;
  /** Re-authorises a connection (a new consent), keeping its accounts and history; may ask for SCA. */
  renewConsent(connectionId: string, onProgress?: ProgressHandler): Promise<FlowUpdate>;
  /** An OS notification, worded by the UI. */
  notify(title: string, body: string): Promise<void>;

  // finX income reports, stored in the vault (readable offline)
  /** Newest first. */
  incomeReports(): Promise<StoredIncomeReport[]>;
  incomeReport(id: string): Promise<StoredIncomeReport>;

  // kontor:// callbacks (bank redirects), handled by the core; the UI shows the outcome
  /** Drains the outcomes of callbacks handled since the last call (also those from before the UI listened). */
  takeCallbackResults(): Promise<CallbackResult[]>;
  /**
   * A `kontor://` address the user pasted because the browser could not hand it back; handled like one from
   * the desktop (its outcome arrives through `takeCallbackResults`). Rejects anything else with InvalidInput.
   */
  pasteCallback(url: string): Promise<void>;
  /** Notified whenever a callback outcome is waiting in the inbox (a nudge to `takeCallbackResults`). */
  onCallbackResult(handler: () => void): Promise<Unsubscribe>;
  /** Progress of work no command started, i.e. a flow continuing after a callback. */
  onFlowProgress(handler: ProgressHandler): Promise<Unsubscribe>;
}

/** A Tauri `Channel` as an argument; TauriBackend creates it from a ProgressHandler. */
export interface ProgressChannel {
  onmessage: ProgressHandler;
}

/**
 * The IPC surface exactly as the Rust commands define it: command name → camelCase args → result.
 * TauriBackend's `call` is typed by this map, so a wrong name or argument does not compile.
 */
export interface Commands {
  app_status: { args: Record<string, never>; result: AppStatus };
  create_vault_with_passphrase: { args: { passphrase: string }; result: AppStatus };
  unlock_vault: { args: { passphrase: string }; result: AppStatus };
  change_key_source: { args: { target: KeySourceDto; passphrase: string | null }; result: AppStatus };
  complete_onboarding: { args: Record<string, never>; result: AppStatus };
  preferences: { args: Record<string, never>; result: Preferences };
  set_preferences: { args: { preferences: Preferences }; result: Preferences };
  overview: { args: Record<string, never>; result: Overview };
  overview_painted: { args: { marks: StartupMark[] }; result: null };
  provider_configs: { args: Record<string, never>; result: ProviderConfigSummary[] };
  add_provider_config: { args: { config: NewProviderConfig }; result: ProviderConfigSummary };
  start_finx_link: { args: { request: StartFinxLink; onProgress: ProgressChannel }; result: FlowUpdate };
  income_reports: { args: Record<string, never>; result: StoredIncomeReport[] };
  income_report: { args: { id: string }; result: StoredIncomeReport };
  search_banks: { args: { providerConfigId: string; query: string }; result: BankSearchHit[] };
  start_link: { args: { request: StartLink; onProgress: ProgressChannel }; result: FlowUpdate };
  answer_flow: { args: { flowId: string; answer: UserAnswer; onProgress: ProgressChannel }; result: FlowUpdate };
  cancel_flow: { args: { flowId: string }; result: FlowUpdate };
  pending_flows: { args: Record<string, never>; result: PendingFlow[] };
  sync_connection: { args: { connectionId: string; onProgress: ProgressChannel }; result: FlowUpdate };
  sync_all: { args: { onProgress: ProgressChannel }; result: FlowUpdate[] };
  open_in_browser: { args: { url: string }; result: null };
  connections: { args: Record<string, never>; result: ConnectionDetail[] };
  rename_account: { args: { accountId: string; name: string | null }; result: null };
  set_account_hidden: { args: { accountId: string; hidden: boolean }; result: null };
  reorder_accounts: { args: { connectionId: string; ordered: string[] }; result: null };
  keep_account: { args: { accountId: string }; result: null };
  sync_history: { args: { connectionId: string | null }; result: SyncEntry[] };
  remove_connection: { args: { connectionId: string }; result: RemovedConnection };
  renew_consent: { args: { connectionId: string; onProgress: ProgressChannel }; result: FlowUpdate };
  notify: { args: { title: string; body: string }; result: null };
  take_callback_results: { args: Record<string, never>; result: CallbackResult[] };
  paste_callback: { args: { url: string }; result: null };
  transactions: { args: { query: CoreTransactionQuery }; result: CoreTransactionPage };
  transaction: { args: { id: number }; result: CoreTransactionDetail };
  monthly_flows: { args: { query: CoreTransactionQuery }; result: MonthlyFlow[] };
  balance_history: { args: { accountId: string }; result: BalancePoint[] };
  export_transactions: {
    args: { query: CoreTransactionQuery; format: ExportFormat; locale: Locale };
    result: string | null;
  };
}

export type CommandName = keyof Commands;

/** Events the shell emits to the window. */
export const CALLBACK_RESULT_EVENT = 'kontor://callback-result';
export const FLOW_PROGRESS_EVENT = 'kontor://flow-progress';
