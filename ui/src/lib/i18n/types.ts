import type { AccountType, ConnectionStatus, ErrorCode } from '../../bindings';

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
  };
  /** One sentence per error code, in the user's language. */
  errors: Record<ErrorCode, string>;
}
