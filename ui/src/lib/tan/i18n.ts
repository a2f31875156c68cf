/**
 * Strings of the TAN components, German and English. Both dictionaries are annotated with {@link TanMessages},
 * so a key missing or extra in either is a compile error (and `i18n.test.ts` checks it at run time).
 *
 * The components take an optional `locale` prop; without it they use the app's locale (the i18n context set by
 * `<App>`), and outside the app (tests, harnesses) the browser's language.
 */
import { detectLocale, getI18n } from '../i18n';
import type { Locale } from '../i18n/types';

export type { Locale };

export interface TanMessages {
  challenge: {
    /** "Sparkasse · chipTAN optisch" */
    method: (bank: string | undefined, procedure: string | undefined) => string;
    tabsLabel: string;
    tabAnimation: string;
    tabManual: string;
    tabQr: string;
    /** One line above the chipTAN-QR image in the "QR code" tab. */
    qrExplanation: string;
    /** The QR image's alt text. */
    qrAlt: string;
    submit: string;
    cancel: string;
    submitting: string;
    noInstructions: string;
  };
  flicker: {
    regionLabel: string;
    graphicLabel: string;
    instructions: string;
    speed: string;
    slower: string;
    faster: string;
    hz: (hz: number) => string;
    size: string;
    narrower: string;
    wider: string;
    pause: string;
    play: string;
    restart: string;
    paused: string;
    reducedMotionNote: string;
    invalidCode: string;
  };
  manual: {
    intro: string;
    stepTan: string;
    stepStartCode: string;
    stepDataElements: string;
    startCode: string;
    dataElement: (n: number) => string;
    emptyElement: string;
    text: string;
    version: (version: string) => string;
  };
  photo: {
    instructions: string;
    alt: string;
    zoomIn: string;
    zoomOut: string;
    zoomReset: string;
    zoomLevel: (percent: number) => string;
    zoomLabel: string;
    unsupported: string;
  };
  tanInput: {
    label: string;
    hintNumeric: (max: number | undefined) => string;
    hintAlphanumeric: (max: number | undefined) => string;
    required: string;
    tooLong: (max: number) => string;
    numericOnly: string;
    alphanumericOnly: string;
  };
}

const en: TanMessages = {
  challenge: {
    method: (bank, procedure) => [bank, procedure].filter(Boolean).join(' · '),
    tabsLabel: 'How to read the code',
    tabAnimation: 'Flicker code',
    tabManual: 'Manual entry',
    tabQr: 'QR code',
    qrExplanation: 'For TAN generators that read chipTAN-QR codes.',
    qrAlt: 'chipTAN-QR code',
    submit: 'Confirm',
    cancel: 'Cancel',
    submitting: 'Sending…',
    noInstructions: 'Your bank asks for a TAN.',
  },
  flicker: {
    regionLabel: 'Flicker code',
    graphicLabel: 'Flicker code for your TAN generator',
    instructions:
      'Insert your bank card into the TAN generator (many models need “F” pressed first) and hold it against the bars so that its arrows point at the two triangles.',
    speed: 'Speed',
    slower: 'Slower',
    faster: 'Faster',
    hz: (hz) => `${hz} Hz`,
    size: 'Size',
    narrower: 'Narrower',
    wider: 'Wider',
    pause: 'Pause',
    play: 'Play',
    restart: 'Restart',
    paused: 'Paused',
    reducedMotionNote:
      'This code flashes quickly: your TAN generator reads it that way. You can pause it at any time or type the values in by hand under “Manual entry”.',
    invalidCode: 'This flicker code cannot be shown. Please type the values in by hand.',
  },
  manual: {
    intro: 'If your TAN generator cannot read the flicker code, type these values into it:',
    stepTan: 'Insert your bank card and press “TAN”.',
    stepStartCode: 'Type the start code and press “OK”.',
    stepDataElements: 'Type each further value when the generator asks for it and press “OK”.',
    startCode: 'Start code',
    dataElement: (n) => `Data element ${n}`,
    emptyElement: '(empty: just press “OK”)',
    text: 'Text',
    version: (version) => `HHD ${version}`,
  },
  photo: {
    instructions: 'Scan this image with your photoTAN app or reader.',
    alt: 'photoTAN image',
    zoomIn: 'Zoom in',
    zoomOut: 'Zoom out',
    zoomReset: 'Original size',
    zoomLevel: (percent) => `${percent} %`,
    zoomLabel: 'Zoom',
    unsupported: 'This image cannot be shown.',
  },
  tanInput: {
    label: 'TAN',
    hintNumeric: (max) => (max ? `Digits only, up to ${max}.` : 'Digits only.'),
    hintAlphanumeric: (max) => (max ? `Letters and digits, up to ${max}.` : 'Letters and digits.'),
    required: 'Please enter the TAN.',
    tooLong: (max) => `The TAN has at most ${max} characters.`,
    numericOnly: 'The TAN consists of digits only.',
    alphanumericOnly: 'The TAN consists of letters and digits only.',
  },
};

const de: TanMessages = {
  challenge: {
    method: (bank, procedure) => [bank, procedure].filter(Boolean).join(' · '),
    tabsLabel: 'Wie der Code gelesen wird',
    tabAnimation: 'Flickercode',
    tabManual: 'Manuelle Eingabe',
    tabQr: 'QR-Code',
    qrExplanation: 'Für TAN-Generatoren, die chipTAN-QR-Codes lesen.',
    qrAlt: 'chipTAN-QR-Code',
    submit: 'Bestätigen',
    cancel: 'Abbrechen',
    submitting: 'Wird gesendet…',
    noInstructions: 'Ihre Bank fragt nach einer TAN.',
  },
  flicker: {
    regionLabel: 'Flickercode',
    graphicLabel: 'Flickercode für Ihren TAN-Generator',
    instructions:
      'Stecken Sie Ihre Bankkarte in den TAN-Generator (bei vielen Modellen danach „F“ drücken) und halten Sie ihn so an die Balken, dass seine Pfeile auf die beiden Dreiecke zeigen.',
    speed: 'Geschwindigkeit',
    slower: 'Langsamer',
    faster: 'Schneller',
    hz: (hz) => `${hz} Hz`,
    size: 'Größe',
    narrower: 'Schmaler',
    wider: 'Breiter',
    pause: 'Anhalten',
    play: 'Abspielen',
    restart: 'Neu starten',
    paused: 'Angehalten',
    reducedMotionNote:
      'Dieser Code blinkt schnell: So liest ihn Ihr TAN-Generator. Sie können ihn jederzeit anhalten oder die Werte unter „Manuelle Eingabe“ von Hand eintippen.',
    invalidCode: 'Dieser Flickercode kann nicht angezeigt werden. Bitte geben Sie die Werte von Hand ein.',
  },
  manual: {
    intro: 'Falls Ihr TAN-Generator den Flickercode nicht lesen kann, tippen Sie diese Werte ein:',
    stepTan: 'Stecken Sie Ihre Bankkarte ein und drücken Sie „TAN“.',
    stepStartCode: 'Geben Sie den Start-Code ein und drücken Sie „OK“.',
    stepDataElements: 'Geben Sie jeden weiteren Wert ein, wenn der Generator danach fragt, und drücken Sie „OK“.',
    startCode: 'Start-Code',
    dataElement: (n) => `Datenelement ${n}`,
    emptyElement: '(leer: nur „OK“ drücken)',
    text: 'Text',
    version: (version) => `HHD ${version}`,
  },
  photo: {
    instructions: 'Scannen Sie dieses Bild mit Ihrer photoTAN-App oder Ihrem Lesegerät.',
    alt: 'photoTAN-Grafik',
    zoomIn: 'Vergrößern',
    zoomOut: 'Verkleinern',
    zoomReset: 'Originalgröße',
    zoomLevel: (percent) => `${percent} %`,
    zoomLabel: 'Zoom',
    unsupported: 'Dieses Bild kann nicht angezeigt werden.',
  },
  tanInput: {
    label: 'TAN',
    hintNumeric: (max) => (max ? `Nur Ziffern, höchstens ${max}.` : 'Nur Ziffern.'),
    hintAlphanumeric: (max) => (max ? `Buchstaben und Ziffern, höchstens ${max}.` : 'Buchstaben und Ziffern.'),
    required: 'Bitte geben Sie die TAN ein.',
    tooLong: (max) => `Die TAN hat höchstens ${max} Zeichen.`,
    numericOnly: 'Die TAN besteht nur aus Ziffern.',
    alphanumericOnly: 'Die TAN besteht nur aus Buchstaben und Ziffern.',
  },
};

export const tanDictionaries: Record<Locale, TanMessages> = { en, de };

/**
 * The locale for a TAN component: the explicit prop, else the app's i18n context, else the browser's language.
 * Call it during component initialisation (it may read the Svelte context).
 */
export function resolveTanLocale(explicit?: Locale): Locale {
  if (explicit) return explicit;
  try {
    return getI18n().locale;
  } catch {
    // Rendered outside <App> (tests, harnesses): no i18n context.
    return detectLocale();
  }
}

export function tanMessages(locale: Locale): TanMessages {
  return tanDictionaries[locale];
}
