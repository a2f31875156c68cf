import type { AppStatus, Overview } from '../../bindings';

export type Unsubscribe = () => void;

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
  completeOnboarding(): Promise<AppStatus>;

  // Data
  overview(): Promise<Overview>;

  // kontor:// callbacks (bank redirects, finX widget)
  /** Drains callback URLs that arrived and were not taken yet (also those from before the UI listened). */
  takeCallbacks(): Promise<string[]>;
  /** Notified whenever a callback URL arrives; the URL is also kept until `takeCallbacks` drains it. */
  onCallback(handler: (url: string) => void): Promise<Unsubscribe>;
}

/**
 * The IPC surface exactly as the Rust commands define it: command name → camelCase args → result.
 * TauriBackend's `call` is typed by this map, so a wrong name or argument does not compile.
 */
export interface Commands {
  app_status: { args: Record<string, never>; result: AppStatus };
  create_vault_with_passphrase: { args: { passphrase: string }; result: AppStatus };
  unlock_vault: { args: { passphrase: string }; result: AppStatus };
  complete_onboarding: { args: Record<string, never>; result: AppStatus };
  overview: { args: Record<string, never>; result: Overview };
  take_callbacks: { args: Record<string, never>; result: string[] };
}

export type CommandName = keyof Commands;

/** Events the core emits to the window. */
export const CALLBACK_EVENT = 'kontor://callback';
