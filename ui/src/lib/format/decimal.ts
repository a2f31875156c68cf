/**
 * Exact arithmetic on decimal strings as the core sends them (rust_decimal `to_string`: "-1234.5",
 * "0.00", "12"). Money never becomes a float for arithmetic; sums go through BigInt.
 */

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;

export interface ParsedDecimal {
  negative: boolean;
  /** Integer digits without leading zeros ("0" for zero). */
  int: string;
  /** Fraction digits as written (may be empty). */
  frac: string;
}

export function parseDecimal(value: string): ParsedDecimal | null {
  const m = DECIMAL.exec(value.trim());
  if (!m) return null;
  const int = (m[2] ?? '0').replace(/^0+(?=\d)/, '');
  return { negative: m[1] === '-', int, frac: m[3] ?? '' };
}

export function isZero(d: ParsedDecimal): boolean {
  return /^0*$/.test(d.int) && /^0*$/.test(d.frac);
}

/**
 * Rounds to `digits` fraction digits, half away from zero (what Intl.NumberFormat does by default),
 * and returns a plain decimal string with exactly `digits` fraction digits. "-0.001" → "0.00".
 */
export function roundDecimal(value: string, digits: number): string | null {
  const d = parseDecimal(value);
  if (!d) return null;
  const padded = d.frac.padEnd(digits + 1, '0');
  let scaled = BigInt(d.int + padded.slice(0, digits));
  const next = padded.charCodeAt(digits) - 48;
  if (next >= 5) scaled += 1n;
  const negative = d.negative && scaled !== 0n;
  let s = scaled.toString().padStart(digits + 1, '0');
  if (digits > 0) s = `${s.slice(0, -digits)}.${s.slice(-digits)}`;
  return negative ? `-${s}` : s;
}

/** Exact sum of decimal strings; the result has as many fraction digits as the longest input. */
export function sumDecimals(values: readonly string[]): string {
  const parsed = values.map((v) => {
    const d = parseDecimal(v);
    if (!d) throw new Error(`not a decimal: ${JSON.stringify(v)}`);
    return d;
  });
  const scale = Math.max(0, ...parsed.map((d) => d.frac.length));
  let total = 0n;
  for (const d of parsed) {
    const n = BigInt(d.int + d.frac.padEnd(scale, '0'));
    total += d.negative ? -n : n;
  }
  const negative = total < 0n;
  let s = (negative ? -total : total).toString().padStart(scale + 1, '0');
  if (scale > 0) s = `${s.slice(0, -scale)}.${s.slice(-scale)}`;
  return negative ? `-${s}` : s;
}

/** Sign of a decimal string: -1, 0 or 1 (0 for anything unparsable). */
export function signOf(value: string): -1 | 0 | 1 {
  const d = parseDecimal(value);
  if (!d || isZero(d)) return 0;
  return d.negative ? -1 : 1;
}
