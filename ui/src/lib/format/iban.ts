/** "DE89370400440532013000" → "DE89 3704 0044 0532 0130 00" (spaces and case normalised). */
export function formatIban(iban: string): string {
  const compact = iban.replace(/\s+/g, '').toUpperCase();
  return compact.replace(/(.{4})(?=.)/g, '$1 ');
}
