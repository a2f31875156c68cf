import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { AppStatus, Overview } from '../../bindings';
import { toKontorError } from './errors';
import { CALLBACK_EVENT, type Backend, type CommandName, type Commands, type Unsubscribe } from './types';

/** The real backend: Tauri IPC to the Rust core. Each method is one typed `invoke`. */
export class TauriBackend implements Backend {
  readonly kind = 'tauri' as const;

  private async call<C extends CommandName>(command: C, args: Commands[C]['args']): Promise<Commands[C]['result']> {
    try {
      return await invoke<Commands[C]['result']>(command, args);
    } catch (err) {
      throw toKontorError(err);
    }
  }

  appStatus(): Promise<AppStatus> {
    return this.call('app_status', {});
  }

  createVaultWithPassphrase(passphrase: string): Promise<AppStatus> {
    return this.call('create_vault_with_passphrase', { passphrase });
  }

  unlockVault(passphrase: string): Promise<AppStatus> {
    return this.call('unlock_vault', { passphrase });
  }

  completeOnboarding(): Promise<AppStatus> {
    return this.call('complete_onboarding', {});
  }

  overview(): Promise<Overview> {
    return this.call('overview', {});
  }

  takeCallbacks(): Promise<string[]> {
    return this.call('take_callbacks', {});
  }

  async onCallback(handler: (url: string) => void): Promise<Unsubscribe> {
    try {
      return await listen<string>(CALLBACK_EVENT, (event) => handler(event.payload));
    } catch (err) {
      throw toKontorError(err);
    }
  }
}

/** True inside the Tauri webview (the IPC bridge is injected before any page script runs). */
export function isTauri(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}
