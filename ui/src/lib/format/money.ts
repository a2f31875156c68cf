import { roundDecimal } from './decimal';

const formatters = new Map<string, Intl.NumberFormat>();

function currencyFormatter(locale: string, currency: string, display: 'symbol' | 'code'): Intl.NumberFormat {
  const key = `${locale}|${currency}|${display}`;
  let f = formatters.get(key);
  if (!f) {
    try {
      f = new Intl.NumberFormat(locale, { style: 'currency', currency, currencyDisplay: display });
    } catch {
      // An unknown ISO code still formats as a plain number with the code appended.
      f = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    }
    formatters.set(key, f);
  }
  return f;
}

/** Does this engine format numeric strings exactly (Intl.NumberFormat v3)? */
let stringInputSupported: boolean | undefined;
function supportsStringInput(): boolean {
  if (stringInputSupported === undefined) {
    try {
      const f = new Intl.NumberFormat('en', { maximumFractionDigits: 20, useGrouping: false });
      stringInputSupported = f.format('123456789012345678.25' as unknown as number) === '123456789012345678.25';
    } catch {
      stringInputSupported = false;
    }
  }
  return stringInputSupported;
}

export interface MoneyFormatOptions {
  /** Show the ISO code ("EUR") instead of the symbol ("€"). */
  currencyDisplay?: 'symbol' | 'code';
  /** Testing hook: force the Number path even where Intl takes strings. */
  forceNumberPath?: boolean;
}

/**
 * Formats a decimal string from the core ("-1234.5") as money in `locale`.
 *
 * The amount is rounded to the currency's minor unit in decimal string arithmetic first (half away
 * from zero), so Intl never rounds a binary float. The rounded string is handed to Intl as a string
 * where the engine supports it (exact at any length), otherwise as a Number, which is exact for up
 * to 15 significant digits. Negative zero is shown as zero. An unparsable amount is returned as is.
 */
export function formatMoney(amount: string, currency: string, locale: string, options: MoneyFormatOptions = {}): string {
  const f = currencyFormatter(locale, currency, options.currencyDisplay ?? 'symbol');
  const digits = f.resolvedOptions().maximumFractionDigits ?? 2;
  const rounded = roundDecimal(amount, digits);
  if (rounded === null) return `${amount} ${currency}`;
  const isCurrency = f.resolvedOptions().style === 'currency';
  const value =
    !options.forceNumberPath && supportsStringInput() ? (rounded as unknown as number) : Number(rounded);
  const text = f.format(value);
  return isCurrency ? text : `${text} ${currency}`;
}
