import { describe, expect, it } from 'vitest';
import { ibanChecksumValid } from './iban';

describe('ibanChecksumValid', () => {
  it('accepts IBANs with the right check digits, whatever the spacing and case', () => {
    expect(ibanChecksumValid('DE89 3704 0044 0532 0130 00')).toBe(true);
    expect(ibanChecksumValid('de89370400440532013000')).toBe(true);
    expect(ibanChecksumValid('GB82 WEST 1234 5698 7654 32')).toBe(true);
    expect(ibanChecksumValid('NL91ABNA0417164300')).toBe(true);
  });

  it('refuses a typo, swapped digits and anything that is not an IBAN', () => {
    expect(ibanChecksumValid('DE89 3704 0044 0532 0130 01')).toBe(false);
    expect(ibanChecksumValid('DE89 3704 0044 0532 0103 00')).toBe(false);
    expect(ibanChecksumValid('DE98 3704 0044 0532 0130 00')).toBe(false);
    expect(ibanChecksumValid('nonsense')).toBe(false);
    expect(ibanChecksumValid('')).toBe(false);
  });
});
