import { isTauri, TauriBackend } from './tauri';
import type { Backend } from './types';

export type { Backend, Commands, Unsubscribe } from './types';
export { TauriBackend } from './tauri';
export { isKontorError, toKontorError } from './errors';

/**
 * The Tauri backend inside the app window; the fake one in a plain browser (`npm run dev`), where
 * `?fake=<scenario>` picks the starting state (first-run, empty, accounts, unlock, no-keyring,
 * error:<ErrorCode>),
 * and `&rows=<n>` how many transactions the demo accounts have (e.g. 1000000).
 */
export async function createBackend(): Promise<Backend> {
  if (isTauri()) return new TauriBackend();
  // Loaded on demand, so the fake stays out of the app's main chunk.
  const [{ FakeBackend }, { scenario }] = await Promise.all([import('./fake'), import('./fixtures')]);
  const params = new URLSearchParams(window.location.search);
  const state = scenario(params.get('fake'));
  const rows = Number(params.get('rows'));
  if (Number.isInteger(rows) && rows > 0) state.transactionCount = Math.min(rows, 5_000_000);
  return new FakeBackend(state, { latencyMs: 120 });
}
