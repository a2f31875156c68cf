import type { AppStatus, KeyringCause, KontorError } from '../../bindings';

/** Which screen the app shows, derived from the core's AppStatus. Pure, so it is tested directly. */
export type Screen =
  | { kind: 'loading' }
  | { kind: 'welcome' }
  | { kind: 'overview' }
  | { kind: 'unlock' }
  | { kind: 'create-passphrase'; error: KontorError; cause: KeyringCause }
  | { kind: 'vault-error'; error: KontorError };

export function screenFor(status: AppStatus): Screen {
  const vault = status.vault;
  switch (vault.state) {
    case 'ready':
      return status.first_run ? { kind: 'welcome' } : { kind: 'overview' };
    case 'needs_passphrase':
      return { kind: 'unlock' };
    case 'keyring_unavailable':
      return { kind: 'create-passphrase', error: vault.error, cause: vault.cause };
    case 'failed':
      return { kind: 'vault-error', error: vault.error };
  }
}
