import { isTauri, TauriBackend } from './tauri';
import type { Backend } from './types';

export type { Backend, Commands, Unsubscribe } from './types';
export { TauriBackend } from './tauri';
export { isKontorError, toKontorError } from './errors';

/**
 * The Tauri backend inside the app window; the fake one in a plain browser (`npm run dev`), where
 * `?fake=<scenario>` picks the starting state (first-run, empty, accounts, unlock, no-keyring,
 * error:<ErrorCode>).
 */
export async function createBackend(): Promise<Backend> {
  if (isTauri()) return new TauriBackend();
  // Loaded on demand, so the fake stays out of the app's main chunk.
  const [{ FakeBackend }, { scenario }] = await Promise.all([import('./fake'), import('./fixtures')]);
  const name = new URLSearchParams(window.location.search).get('fake');
  return new FakeBackend(scenario(name), { latencyMs: 120 });
}
