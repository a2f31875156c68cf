import { describe, expect, it } from 'vitest';
import { htmlToParagraphs, textToParagraphs } from './text';
import { baseWidth, photoDataUri } from './photo';
import { effectiveMaxLength, normalizeTan, validateTan } from './validate';

describe('validateTan', () => {
  it('by default needs non-blank text of at most 64 characters', () => {
    expect(validateTan('')).toEqual({ kind: 'required' });
    expect(validateTan('   ')).toEqual({ kind: 'required' });
    expect(validateTan('a-b c')).toBeNull();
    expect(validateTan('x'.repeat(64))).toBeNull();
    expect(validateTan('x'.repeat(65))).toEqual({ kind: 'tooLong', max: 64 });
  });

  it('checks numeric TANs and their length, ignoring grouping spaces', () => {
    const rules = { format: 'numeric' as const, maxLength: 6 };
    expect(validateTan('123456', rules)).toBeNull();
    expect(validateTan(' 123 456 ', rules)).toBeNull();
    expect(validateTan('1234567', rules)).toEqual({ kind: 'tooLong', max: 6 });
    expect(validateTan('12a456', rules)).toEqual({ kind: 'numericOnly' });
    expect(normalizeTan(' 123 456 ', 'numeric')).toBe('123456');
  });

  it('checks alphanumeric TANs', () => {
    expect(validateTan('AB12cd', { format: 'alphanumeric' })).toBeNull();
    expect(validateTan('AB-12', { format: 'alphanumeric' })).toEqual({ kind: 'alphanumericOnly' });
  });

  it('ignores a nonsensical maximum', () => {
    expect(effectiveMaxLength(0)).toBe(64);
    expect(effectiveMaxLength(2.5)).toBe(64);
    expect(effectiveMaxLength(8)).toBe(8);
  });
});

describe('challenge text', () => {
  it('splits plain text at blank lines', () => {
    expect(textToParagraphs('Line one\nline two\n\n  Second   paragraph \n\n\n')).toEqual([
      'Line one\nline two',
      'Second paragraph',
    ]);
  });

  it('reduces HTML to text paragraphs and drops scripts, styles and attributes', () => {
    const html =
      '<p>Bitte bestätigen Sie die <b>Überweisung</b> über 1,00&nbsp;EUR.</p>' +
      '<script>alert(1)</script><style>p{}</style>' +
      '<ul><li>IBAN DE12 3456</li><li>Empfänger &amp; Co</li></ul>Zeile A<br>Zeile B' +
      '<img src=x onerror="alert(2)"><a href="javascript:alert(3)">Link</a>';
    expect(htmlToParagraphs(html)).toEqual([
      'Bitte bestätigen Sie die Überweisung über 1,00 EUR.',
      '• IBAN DE12 3456',
      '• Empfänger & Co',
      'Zeile A\nZeile BLink',
    ]);
  });

  it('shows markup that is only text as text', () => {
    expect(htmlToParagraphs('&lt;b&gt;not bold&lt;/b&gt;')).toEqual(['<b>not bold</b>']);
  });
});

describe('photo', () => {
  it('builds data URIs only for allowed types and base64 data', () => {
    expect(photoDataUri({ mime_type: 'image/png', image: 'iVBORw0KGgo=' })).toBe('data:image/png;base64,iVBORw0KGgo=');
    expect(photoDataUri({ mime_type: 'IMAGE/PNG ', image: 'iVBO\nRw0K' })).toBe('data:image/png;base64,iVBORw0K');
    expect(photoDataUri({ mime_type: 'text/html', image: 'PGI+' })).toBeNull();
    expect(photoDataUri({ mime_type: 'image/png', image: 'abc"><script>' })).toBeNull();
    expect(photoDataUri({ mime_type: 'image/png', image: '' })).toBeNull();
  });

  it('scales small images up by a whole factor', () => {
    expect(baseWidth(33)).toBe(231);
    expect(baseWidth(128)).toBe(256);
    expect(baseWidth(300)).toBe(300);
    expect(baseWidth(0)).toBe(200);
  });
});
