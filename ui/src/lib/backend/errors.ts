import type { ErrorCode, KontorError } from '../../bindings';

/**
 * Every ErrorCode the backend can send. Typed as a Record so that a code added to bindings.ts
 * fails the type check here until it is listed (and until both dictionaries translate it).
 */
const CODES: Record<ErrorCode, true> = {
  VaultWrongKey: true,
  VaultKeyMissing: true,
  KeyringUnavailable: true,
  PassphraseRequired: true,
  VaultCorrupt: true,
  VaultNewerSchema: true,
  VaultBusy: true,
  VaultLocked: true,
  InvalidInput: true,
  NotFound: true,
  ProviderUnavailable: true,
  RateLimited: true,
  ProviderResponseInvalid: true,
  ProviderAuthFailed: true,
  CredentialsRejected: true,
  CredentialsRequired: true,
  TanRejected: true,
  ConsentExpired: true,
  ResourceBusy: true,
  NotSupported: true,
  PsuIpRequired: true,
  TooManySyncs: true,
  ScaCancelled: true,
  ScaTimedOut: true,
  ScaStateMismatch: true,
  ScaStale: true,
  AuthorizationExpired: true,
  Io: true,
  Internal: true,
};

export const ERROR_CODES = Object.keys(CODES) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(CODES, value);
}

/** True for a well-formed `{code, message}` object as the Rust side rejects with. */
export function isKontorError(value: unknown): value is KontorError {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return isErrorCode(v['code']) && typeof v['message'] === 'string';
}

/**
 * Normalises anything a rejected call can throw into a KontorError. A well-formed KontorError passes
 * through (optional fields kept only when they are strings); anything else becomes `Internal`.
 */
export function toKontorError(value: unknown): KontorError {
  if (isKontorError(value)) {
    const out: KontorError = { code: value.code, message: value.message };
    if (typeof value.bank_message === 'string') out.bank_message = value.bank_message;
    if (typeof value.retry_at === 'string') out.retry_at = value.retry_at;
    return out;
  }
  let message: string;
  if (value instanceof Error) message = value.message;
  else if (typeof value === 'string') message = value;
  else if (typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string')
    message = (value as { message: string }).message;
  else message = 'Something went wrong inside Kontor.';
  return { code: 'Internal', message: message || 'Something went wrong inside Kontor.' };
}

export function kontorError(code: ErrorCode, message: string): KontorError {
  return { code, message };
}
