import type { AppStatus, KontorError, Overview } from '../../bindings';
import type { Backend, Unsubscribe } from '../backend/types';
import { toKontorError } from '../backend/errors';
import { screenFor, type Screen } from './routing';

export type Loadable<T> =
  | { state: 'idle' }
  | { state: 'loading' }
  | { state: 'ready'; data: T }
  | { state: 'error'; error: KontorError };

export type DialogKind = 'link-bank';

type CallbackHandler = (url: string) => boolean | void;

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
  /** kontor:// callback URLs no flow has claimed yet (oldest first). */
  unclaimedCallbacks = $state<string[]>([]);

  readonly backend: Backend;
  /** Not reactive on purpose: handlers are plumbing, not state to render. */
  private callbackHandlers: CallbackHandler[] = [];
  private unlisten: Unsubscribe | null = null;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  /** Startup: listen for callbacks first, then ask the core where we stand. */
  async start(): Promise<void> {
    await this.listenForCallbacks();
    await this.refreshStatus();
  }

  dispose(): void {
    this.unlisten?.();
    this.unlisten = null;
  }

  async refreshStatus(): Promise<void> {
    try {
      this.apply(await this.backend.appStatus());
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

  async loadOverview(): Promise<void> {
    if (this.overview.state !== 'ready') this.overview = { state: 'loading' };
    try {
      this.overview = { state: 'ready', data: await this.backend.overview() };
    } catch (err) {
      this.overview = { state: 'error', error: toKontorError(err) };
    }
  }

  /**
   * "Link a bank": opens the link-bank dialog. The linking flow (SCA, callbacks) plugs in behind
   * this action and the LinkBankDialog component.
   */
  linkBank(): void {
    this.dialog = 'link-bank';
  }

  closeDialog(): void {
    this.dialog = null;
  }

  /**
   * Registers a handler for kontor:// callbacks (used by the linking flow). A handler returns true
   * when the URL was its own. Unclaimed URLs that are waiting are offered to it at once.
   */
  onCallback(handler: CallbackHandler): Unsubscribe {
    this.callbackHandlers = [...this.callbackHandlers, handler];
    const waiting = this.unclaimedCallbacks;
    this.unclaimedCallbacks = [];
    for (const url of waiting) this.dispatchCallback(url);
    return () => {
      this.callbackHandlers = this.callbackHandlers.filter((h) => h !== handler);
    };
  }

  private apply(status: AppStatus): void {
    this.status = status;
    const next = screenFor(status);
    this.screen = next;
    if (next.kind === 'overview' && this.overview.state !== 'ready') void this.loadOverview();
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
   * The core keeps every callback URL in an inbox until `take_callbacks` drains it, and announces
   * each one with an event. The event is only a nudge to drain, so a URL is handled exactly once,
   * including those that arrived before the UI was listening.
   */
  private async listenForCallbacks(): Promise<void> {
    try {
      this.unlisten = await this.backend.onCallback(() => void this.drainCallbacks());
    } catch (err) {
      console.warn('kontor: cannot listen for callbacks', toKontorError(err));
    }
    await this.drainCallbacks();
  }

  private async drainCallbacks(): Promise<void> {
    let urls: string[];
    try {
      urls = await this.backend.takeCallbacks();
    } catch (err) {
      console.warn('kontor: cannot take callbacks', toKontorError(err));
      return;
    }
    for (const url of urls) this.dispatchCallback(url);
  }

  private dispatchCallback(url: string): void {
    for (const handler of this.callbackHandlers) {
      if (handler(url) === true) return;
    }
    this.unclaimedCallbacks = [...this.unclaimedCallbacks, url];
  }
}
