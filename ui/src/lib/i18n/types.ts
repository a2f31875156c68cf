import type {
  AccountType,
  ConnectionStatus,
  ErrorCode,
  KeyringCause,
  MatchField,
  PendingMatch,
  WorkStep,
} from '../../bindings';

export type Locale = 'en' | 'de';

/** Codes the vault-error screen explains in detail; every other code gets the generic help. */
export type VaultFailureCode =
  | 'VaultWrongKey'
  | 'VaultKeyMissing'
  | 'VaultCorrupt'
  | 'VaultNewerSchema'
  | 'VaultBusy'
  | 'VaultLocked'
  | 'KeyringUnavailable'
  | 'PassphraseRequired'
  | 'Io'
  | 'Internal';

export interface FailureHelp {
  title: string;
  /** What happened, in plain words. */
  what: string;
  /** What to do about it. */
  todo: string;
}

/**
 * The dictionary shape. `en.ts` and `de.ts` are both annotated with this type, so a key missing in
 * either, or an extra key in either, is a compile error.
 */
export interface Messages {
  app: {
    name: string;
    loading: string;
    skipToContent: string;
  };
  common: {
    close: string;
    retry: string;
    copy: string;
    copied: string;
    showPassphrase: string;
    hidePassphrase: string;
    details: string;
    errorCode: (code: string) => string;
  };
  welcome: {
    title: string;
    intro: string;
    promisesLabel: string;
    promiseLocalTitle: string;
    promiseLocalBody: string;
    promiseEncryptedTitle: string;
    promiseEncryptedBody: string;
    promiseEncryptedBodyPassphrase: string;
    promiseSyncTitle: string;
    promiseSyncBody: string;
    getStarted: string;
    starting: string;
    demoHint: string;
  };
  unlock: {
    title: string;
    body: string;
    passphrase: string;
    submit: string;
    submitting: string;
    wrongKey: string;
    empty: string;
  };
  createPassphrase: {
    title: string;
    body: string;
    passphrase: string;
    confirm: string;
    submit: string;
    submitting: string;
    tooShort: (min: number) => string;
    mismatch: string;
    warningTitle: string;
    warningBody: string;
    strengthLabel: string;
    strength: { empty: string; weak: string; fair: string; good: string; strong: string };
    keyringDetail: string;
    /** Why no keyring answered, by the core's `KeyringCause`. */
    causes: Record<KeyringCause, string>;
  };
  vaultError: {
    unchanged: string;
    dataDir: string;
    retry: string;
    generic: FailureHelp;
    byCode: Record<VaultFailureCode, FailureHelp>;
  };
  nav: {
    label: string;
    overview: string;
    vaultKeyring: string;
    vaultPassphrase: string;
    demoMode: string;
    reports: string;
    settings: string;
    transactions: string;
    connections: string;
    /** The sidebar badge's label: connections whose consent or access ends soon. */
    attention: (n: number) => string;
  };
  overview: {
    title: string;
    totalBalance: string;
    totalsLabel: string;
    accountsCount: (n: number) => string;
    loading: string;
    loadFailed: string;
    addBank: string;
    balanceAsOf: (date: string) => string;
    available: (amount: string) => string;
    noBalance: string;
    noIban: string;
    bankSubtotal: string;
    accountsOf: (bank: string) => string;
    accountType: Record<AccountType, string>;
    connectionStatus: Record<ConnectionStatus, string>;
    syncAll: string;
    syncOne: (bank: string) => string;
    syncing: string;
    syncedAt: (when: string) => string;
    syncedJustNow: string;
    neverSynced: string;
    syncDone: (bank: string, added: number) => string;
    syncFailed: (bank: string) => string;
    syncNeedsBank: (bank: string) => string;
    dismiss: string;
    callbackLinked: (bank: string) => string;
    callbackRefused: string;
    importedOnce: string;
    importedOnceNote: string;
    consentUntil: (date: string) => string;
    accessUntil: (date: string) => string;
    consentEndsIn: (days: number) => string;
    accessEndsIn: (days: number) => string;
    consentEnded: string;
    accessLost: string;
    reportReady: string;
    openReport: string;
    manageConnection: (bank: string) => string;
    duplicateTitle: (accounts: string[]) => string;
    duplicateBody: (kept: string, copy: string) => string;
    keepIn: (bank: string) => string;
    duplicateTag: string;
  };
  connections: {
    title: string;
    intro: string;
    loading: string;
    loadFailed: string;
    none: string;
    providerLine: (provider: string, iface: string | null) => string;
    consentLabel: string;
    consentCountdown: (date: string, days: number) => string;
    consentEndedOn: (date: string) => string;
    consentUnknown: string;
    consentNone: string;
    accessLabel: string;
    accessCountdown: (date: string, days: number) => string;
    lastSyncLabel: string;
    neverSynced: string;
    outcome: Record<'running' | 'succeeded' | 'failed' | 'cancelled', string>;
    accountsLabel: string;
    storedLabel: string;
    stored: (accounts: number, transactions: number) => string;
    interfaceName: (iface: string) => string;
    warnings: {
      consentEnds: (days: number) => string;
      consentEnded: string;
      accessEnds: (days: number) => string;
      accessLost: string;
    };
    transactionsCount: (n: number) => string;
    bankCalls: (name: string) => string;
    hiddenTag: string;
    duplicateTag: string;
    rename: (account: string) => string;
    nameLabel: string;
    save: string;
    cancel: string;
    hide: (account: string) => string;
    show: (account: string) => string;
    moveUp: (account: string) => string;
    moveDown: (account: string) => string;
    sync: string;
    renew: string;
    renewHint: string;
    renewFinx: string;
    history: string;
    remove: string;
    removeTitle: (bank: string) => string;
    removeBody: (accounts: number, transactions: number) => string;
    removeProvider: string;
    removeLocalOnly: string;
    removeConfirm: string;
    removing: string;
    removed: (bank: string, accounts: number, transactions: number) => string;
    removedSecrets: string;
    historyTitle: string;
    historyOf: (bank: string) => string;
    historyAll: string;
    historyEmpty: string;
    started: string;
    duration: (seconds: number) => string;
    changes: (added: number, updated: number, removed: number) => string;
    removedConnection: string;
    notifyTitle: string;
    notifyBody: (bank: string, days: number) => string;
    notifyEnded: (bank: string) => string;
  };
  empty: {
    title: string;
    body: string;
    linkBank: string;
    demoNote: string;
  };
  linkBank: {
    title: string;
    intro: string;
    loading: string;
    unavailable: string;
    providerLegend: string;
    demoProvider: string;
    demoProviderNote: string;
    demoProviderFinapi: string;
    demoProviderFinx: string;
    demoProviderFinxNote: string;
    providerKind: Record<'finapi' | 'finx', string>;
    finxTitle: string;
    finxIntro: string;
    finxFlows: Record<'ongoing' | 'one_time' | 'income_report', { title: string; body: string }>;
    finxIbansLabel: string;
    finxIbansHint: string;
    finxIbansInvalid: (list: string) => string;
    finxStart: string;
    finxDemoHint: string;
    finxBrowserTitle: string;
    finxBrowserBody: string;
    finxOpenAgain: string;
    browserUrlLabel: string;
    browserUrlHint: string;
    copyLink: string;
    linkCopied: string;
    /** The browser could not be opened: replaces the "opened in your browser" sentence. */
    browserNotOpened: string;
    pasteLabel: string;
    pastePlaceholder: string;
    pasteSubmit: string;
    pasteInvalid: string;
    doneOnceNote: string;
    reportTitle: string;
    reportBody: string;
    openReport: string;
    reportNeedsFinx: string;
    changeProvider: string;
    next: string;
    cancel: string;
    back: string;
    searchLabel: string;
    searchPlaceholder: string;
    search: string;
    searching: string;
    searchHint: string;
    demoSearchHint: string;
    noResults: (query: string) => string;
    resultsLabel: string;
    bic: string;
    blz: string;
    testBank: string;
    notAvailable: string;
    credentialsTitle: (bank: string) => string;
    /** The login step's checkbox: let the provider keep the login (finAPI storeSecrets, finX save_secrets). */
    storeSecrets: string;
    credentialsIntro: string;
    /**
     * Words the core sends for finX's own login fields and hint (api/finx.rs `LOGIN_ID_LABEL`, the
     * sync's `login_hint`), in the user's language; a bank's own labels are shown as the bank words them.
     */
    coreLoginWords: Record<string, string>;
    required: string;
    signIn: string;
    procedureTitle: string;
    procedureIntro: string;
    procedureKind: Record<'text' | 'photo' | 'flicker', string>;
    continue: string;
    tanTitle: string;
    browserTitle: string;
    browserBody: (bank: string) => string;
    browserWaiting: string;
    openAgain: string;
    approveTitle: string;
    approveBody: (bank: string) => string;
    approveWaiting: string;
    checkAgain: string;
    accountsTitle: string;
    accountsIntroKnown: string;
    accountsIntroEnter: string;
    ibanLabel: (n: number) => string;
    addIban: string;
    removeIban: string;
    ibanChecksum: string;
    ibanInvalid: string;
    chooseOne: string;
    working: Record<WorkStep, string>;
    workingStart: string;
    workingNote: string;
    doneTitle: string;
    doneBody: (bank: string) => string;
    doneAccounts: (n: number) => string;
    doneTransactions: (n: number) => string;
    toOverview: string;
    failedTitle: string;
    /** The same dialog continuing a sync that needed the user (a TAN, the login). */
    syncTitle: (bank: string) => string;
    syncDoneTitle: string;
    syncDoneBody: (bank: string) => string;
    renewTitle: (bank: string) => string;
    renewDoneTitle: string;
    renewDoneBody: (bank: string) => string;
    syncFailedTitle: string;
    tryAgain: string;
    otherBank: string;
    bankSays: string;
    yourBank: string;
    refusedTitle: string;
  };
  /** One sentence per error code, in the user's language. */
  reports: {
    title: string;
    intro: string;
    listLabel: string;
    emptyTitle: string;
    emptyBody: string;
    create: string;
    loading: string;
    loadFailed: string;
    reportOf: (date: string) => string;
    created: (date: string) => string;
    period: (months: number) => string;
    back: string;
    offline: string;
    averageIncome: string;
    regularTotal: string;
    variableTotal: string;
    disposable: string;
    perMonth: string;
    incomeTitle: string;
    regularTitle: string;
    variableTitle: string;
    disposableTitle: string;
    colName: string;
    colCategory: string;
    colRegularity: string;
    colAverage: string;
    regularity: { monthly: string; several: (n: number) => string; irregular: (n: number) => string; unknown: string };
    noStreams: string;
    noExpenses: string;
    low: string;
    high: string;
    total: (months: number) => string;
    share: (percent: string) => string;
    notFound: string;
  };
  settings: {
    title: string;
    appearance: {
      title: string;
      language: string;
      languageSystem: string;
      theme: string;
      themeSystem: string;
      themeLight: string;
      themeDark: string;
    };
    providersTitle: string;
    providersIntro: string;
    demoBadge: string;
    inUse: string;
    noProviders: string;
    loadFailed: string;
    addTitle: string;
    kind: string;
    label: string;
    labelPlaceholder: string;
    baseUrl: string;
    baseUrlHint: string;
    clientId: string;
    clientSecret: string;
    clientSecretHint: string;
    apiVersion: string;
    add: string;
    adding: string;
    added: (label: string) => string;
    replacesDemo: string;
    required: string;
    badUrl: string;
    failed: string;
    vault: {
      title: string;
      currentKeyring: string;
      currentPassphrase: string;
      toPassphraseTitle: string;
      toPassphraseBody: string;
      passphrase: string;
      confirm: string;
      toPassphrase: string;
      toKeyringTitle: string;
      toKeyringBody: string;
      toKeyring: string;
      working: string;
      nowPassphrase: string;
      nowKeyring: string;
      failed: string;
    };
  };
  transactions: {
    title: string;
    /** Under the title: what the list shows, in the order it is sorted. */
    subtitle: { newest: string; oldest: string };
    searchLabel: string;
    searchPlaceholder: string;
    filtersLabel: string;
    account: string;
    allAccounts: string;
    period: string;
    periods: Record<'all' | 'this-month' | 'last-month' | 'this-year' | 'custom', string>;
    from: string;
    to: string;
    /** How a date is typed in the From/To fields (in Kontor's language, not the WebView's). */
    datePlaceholder: string;
    direction: string;
    directions: Record<'all' | 'in' | 'out', string>;
    amount: string;
    minAmount: string;
    maxAmount: string;
    invalidAmount: string;
    status: string;
    statuses: Record<'all' | 'booked' | 'pending', string>;
    order: string;
    orders: Record<'newest' | 'oldest', string>;
    clearFilters: string;
    summary: (count: number, countText: string, sum: string) => string;
    summaryLoading: string;
    listLabel: string;
    loading: string;
    loadingMore: string;
    empty: string;
    emptyFiltered: string;
    loadFailed: string;
    pending: string;
    valueDate: (date: string) => string;
    balanceAfter: (balance: string) => string;
    noCounterparty: string;
    rowLabel: (date: string, who: string, amount: string, pending: boolean) => string;
    jumpOldest: string;
    jumpNewest: string;
    keyboardHint: string;
    exportLabel: string;
    exportCsv: string;
    exportJson: string;
    exporting: string;
    exported: (path: string) => string;
    exportFailed: string;
    detail: {
      title: string;
      close: string;
      loading: string;
      loadFailed: string;
      bookingDate: string;
      valueDate: string;
      amount: string;
      status: string;
      account: string;
      counterparty: string;
      iban: string;
      purpose: string;
      kind: string;
      balance: string;
      id: string;
      matchReason: string;
      /** Why this booked row took over a pending one; `pendingDate` already formatted. */
      pendingMatch: (match: PendingMatch, pendingDate: string) => string;
      matchFields: Record<MatchField, string>;
      raw: string;
      copy: (what: string) => string;
      copied: string;
      none: string;
    };
  };
  account: {
    back: string;
    open: (name: string) => string;
    balanceChart: string;
    balanceChartDesc: (from: string, to: string, low: string, high: string, last: string) => string;
    noHistory: string;
    monthly: string;
    monthlyDesc: (months: number) => string;
    monthBar: (month: string, income: string, spending: string) => string;
    income: string;
    spending: string;
    transactions: string;
    loadFailed: string;
    notFound: string;
  };
  errors: Record<ErrorCode, string>;
}
