export const MIN_PASSPHRASE_LENGTH = 8;

export type Strength = 'empty' | 'weak' | 'fair' | 'good' | 'strong';

/**
 * A rough, honest strength hint: length counts most, variety a little, obvious repetition is
 * penalised. It guides; it does not gate (only the minimum length does).
 */
export function passphraseStrength(passphrase: string): Strength {
  const chars = [...passphrase];
  if (chars.length === 0) return 'empty';
  if (chars.length < MIN_PASSPHRASE_LENGTH) return 'weak';
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z\d\s]/, /\s/].filter((re) => re.test(passphrase)).length;
  const unique = new Set(chars).size;
  let score = chars.length + classes * 2;
  if (unique < chars.length / 3) score -= 8;
  if (/^(.)\1+$/.test(passphrase) || /^(?:0123|1234|abcd|qwert|passw)/i.test(passphrase)) score -= 8;
  if (score >= 24) return 'strong';
  if (score >= 18) return 'good';
  if (score >= 13) return 'fair';
  return 'weak';
}

export function strengthLevel(strength: Strength): number {
  return { empty: 0, weak: 1, fair: 2, good: 3, strong: 4 }[strength];
}
