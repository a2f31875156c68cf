import type {
  AccountSummary,
  AppStatus,
  ConnectionSummary,
  CurrencyTotal,
  KeySourceDto,
  KontorError,
  Overview,
  VaultState,
} from '../../bindings';
import { sumDecimals } from '../format/decimal';
import { kontorError } from './errors';
import type { Backend, Unsubscribe } from './types';

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
  /** Callback URLs waiting for `takeCallbacks` (as the Rust inbox keeps them). */
  inbox: string[];
}

export type FakeMethod = Exclude<keyof Backend, 'kind'>;

export interface FakeOptions {
  /** Artificial latency per call in ms (0 in tests; a little in the browser so loading states show). */
  latencyMs?: number;
}

export const FAKE_DATA_DIR = '/home/you/.local/share/dev.kontor.app';

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
  private readonly failures = new Map<FakeMethod, KontorError[]>();
  private readonly listeners = new Set<(url: string) => void>();
  private readonly latencyMs: number;

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

  /** Simulates a kontor:// URL arriving from the OS: kept in the inbox and announced to listeners. */
  deliverCallback(url: string): void {
    this.state.inbox.push(url);
    for (const listener of this.listeners) listener(url);
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

  completeOnboarding(): Promise<AppStatus> {
    return this.run('completeOnboarding', () => {
      this.requireReady();
      this.state.firstRun = false;
      return this.status();
    });
  }

  overview(): Promise<Overview> {
    return this.run('overview', () => {
      this.requireReady();
      const byCurrency = new Map<string, string[]>();
      for (const account of this.state.accounts) {
        if (account.balance_booked === null) continue;
        const list = byCurrency.get(account.currency) ?? [];
        list.push(account.balance_booked);
        byCurrency.set(account.currency, list);
      }
      const totals: CurrencyTotal[] = [...byCurrency.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([currency, amounts]) => ({ currency, amount: sumDecimals(amounts) }));
      return structuredClone({ accounts: this.state.accounts, totals, connections: this.state.connections });
    });
  }

  takeCallbacks(): Promise<string[]> {
    return this.run('takeCallbacks', () => this.state.inbox.splice(0));
  }

  onCallback(handler: (url: string) => void): Promise<Unsubscribe> {
    return this.run('onCallback', () => {
      this.listeners.add(handler);
      return () => {
        this.listeners.delete(handler);
      };
    });
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
