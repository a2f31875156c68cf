import type { FlickerCode, PhotoTan } from '../../bindings';

/** What characters a TAN may contain, as the provider or the bank's TAN method states it. */
export type TanFormat = 'numeric' | 'alphanumeric';

/** Facts about the TAN and the method that both providers (finAPI, finX) may know. */
export interface TanChallengeMeta {
  /** The TAN's maximum length (FinTS HITANS "max. Länge der TAN-Eingabe"); default 64. */
  tanMaxLength?: number;
  /** Allowed characters; without it any non-blank text is accepted. */
  tanFormat?: TanFormat;
  /** The bank's name, shown above the challenge. */
  bankLabel?: string;
  /** The TAN method's name, e.g. "chipTAN optisch" or "photoTAN". */
  procedureName?: string;
}

/**
 * One TAN challenge as the dialog shows it.
 *
 * - `text`: only the bank's instructions (e.g. an SMS TAN, or a TAN generator without an optical interface).
 * - `flicker`: chipTAN optical; `text` is the bank's instruction text, if any. `qrFallback` is the same code as a
 *   chipTAN-QR image, for TAN generators that read QR codes instead of the flicker.
 * - `photo`: photoTAN or chipTAN-QR image.
 * - `html`: the instructions as HTML (finX sends sanitized HTML). Always shown as plain text, never as markup.
 */
export type TanChallengeView = TanChallengeMeta &
  (
    | { kind: 'text'; text: string }
    | { kind: 'flicker'; flicker: FlickerCode; qrFallback?: PhotoTan; text?: string }
    | { kind: 'photo'; photo: PhotoTan; text?: string }
    | { kind: 'html'; html: string }
  );

export type TanChallengeKind = TanChallengeView['kind'];
