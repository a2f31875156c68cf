import type { TanFormat } from './types';

/** Without a limit from the provider a TAN may have up to this many characters. */
export const DEFAULT_TAN_MAX_LENGTH = 64;

export type TanProblem =
  | { kind: 'required' }
  | { kind: 'tooLong'; max: number }
  | { kind: 'numericOnly' }
  | { kind: 'alphanumericOnly' };

export interface TanRules {
  maxLength?: number | undefined;
  format?: TanFormat | undefined;
}

/**
 * The TAN as it is sent: trimmed, and for a numeric or alphanumeric TAN without inner spaces (people type
 * "123 456" as the generator groups it).
 */
export function normalizeTan(raw: string, format?: TanFormat): string {
  const trimmed = raw.trim();
  return format ? trimmed.replace(/\s+/g, '') : trimmed;
}

/** The effective maximum length: the provider's if it is a sensible whole number, else 64. */
export function effectiveMaxLength(maxLength: number | undefined): number {
  return maxLength !== undefined && Number.isInteger(maxLength) && maxLength > 0 && maxLength <= 256
    ? maxLength
    : DEFAULT_TAN_MAX_LENGTH;
}

/** The first problem with a TAN, or null when it may be sent. */
export function validateTan(raw: string, rules: TanRules = {}): TanProblem | null {
  const tan = normalizeTan(raw, rules.format);
  if (tan.length === 0) return { kind: 'required' };
  if (rules.format === 'numeric' && !/^[0-9]+$/.test(tan)) return { kind: 'numericOnly' };
  if (rules.format === 'alphanumeric' && !/^[A-Za-z0-9]+$/.test(tan)) return { kind: 'alphanumericOnly' };
  const max = effectiveMaxLength(rules.maxLength);
  if ([...tan].length > max) return { kind: 'tooLong', max };
  return null;
}
