/** "DE89370400440532013000" → "DE89 3704 0044 0532 0130 00" (spaces and case normalised). */
export function formatIban(iban: string): string {
  const compact = iban.replace(/\s+/g, '').toUpperCase();
  return compact.replace(/(.{4})(?=.)/g, '$1 ');
}

/**
 * Whether an IBAN's check digits are right (ISO 13616 mod 97: the first four characters moved to the
 * end, letters as 10–35, the number modulo 97 is 1). Spaces and case do not matter; anything that is
 * not letters and digits fails.
 */
export function ibanChecksumValid(iban: string): boolean {
  const compact = iban.replace(/\s+/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(compact)) return false;
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let remainder = 0;
  for (const char of rearranged) {
    const value = char >= 'A' ? char.charCodeAt(0) - 55 : Number(char);
    remainder = value >= 10 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97;
  }
  return remainder === 1;
}

/** An IBAN with correct check digits for `country` and `bban` (for generated demo data). */
export function ibanWithCheckDigits(country: string, bban: string): string {
  const digits = [...`${bban}${country}00`.toUpperCase()]
    .map((c) => (c >= 'A' ? String(c.charCodeAt(0) - 55) : c))
    .join('');
  let remainder = 0;
  for (const d of digits) remainder = (remainder * 10 + Number(d)) % 97;
  return `${country.toUpperCase()}${String(98 - remainder).padStart(2, '0')}${bban.toUpperCase()}`;
}
