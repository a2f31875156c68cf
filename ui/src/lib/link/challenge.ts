import type { FlickerCode, PhotoTan, ScaProcedure, UserRequest } from '../../bindings';
import type { TanChallengeView } from '../tan/types';

type EnterTan = Extract<UserRequest, { kind: 'enter_tan' }>;

/**
 * The core's `enter_tan` request as the TAN dialog shows it. A flicker code comes parsed from the
 * core (`flicker`); where it could not be parsed, the raw optical data is shown as text so the user
 * can still type it into a TAN generator by hand. The core's chipTAN-QR image of the code (`qr_fallback`)
 * is passed on for generators that read QR codes.
 */
export function tanChallengeView(
  request: EnterTan,
  context: { bankName?: string; procedure?: ScaProcedure | null } = {},
): TanChallengeView {
  const text = request.prompt?.trim() ?? '';
  const meta = {
    ...(context.bankName ? { bankLabel: context.bankName } : {}),
    ...(context.procedure?.name ? { procedureName: context.procedure.name } : {}),
  };
  const challenge = request.challenge;
  switch (challenge.kind) {
    case 'photo':
      return { ...meta, kind: 'photo', photo: { mime_type: challenge.mime_type, image: challenge.data_base64 }, text };
    case 'flicker': {
      const parsed = (challenge as { flicker?: FlickerCode | null }).flicker;
      const qrFallback = (challenge as { qr_fallback?: PhotoTan | null }).qr_fallback;
      if (parsed) return { ...meta, kind: 'flicker', flicker: parsed, ...(qrFallback ? { qrFallback } : {}), text };
      const raw = challenge.optical_data.trim();
      return { ...meta, kind: 'text', text: [text, raw].filter((part) => part.length > 0).join('\n\n') };
    }
    default:
      return { ...meta, kind: 'text', text };
  }
}
