import { describe, expect, it } from 'vitest';
import type { FlickerCode, UserRequest } from '../../bindings';
import { tanChallengeView } from './challenge';

const FLICKER: FlickerCode = {
  version: '1.4',
  start_code: { value: '2045201998', encoding: 'BCD' },
  control_bytes: [1],
  data_elements: [{ value: '12345678', encoding: 'BCD' }],
  render_hex: '0D85012045201998041234567855',
  luhn: '5',
  xor: '5',
};
const QR = { mime_type: 'image/png', image: 'iVBORw0KGgo=' };

function enterTan(qrFallback: typeof QR | null): Extract<UserRequest, { kind: 'enter_tan' }> {
  const challenge = { kind: 'flicker' as const, optical_data: FLICKER.render_hex, flicker: FLICKER, reiner_sct: false, qr_fallback: qrFallback };
  return { kind: 'enter_tan', prompt: 'TAN bitte', label: 'TAN', challenge };
}

describe('tanChallengeView', () => {
  it('passes the chipTAN-QR fallback of a flicker code on', () => {
    expect(tanChallengeView(enterTan(QR))).toEqual({ kind: 'flicker', flicker: FLICKER, qrFallback: QR, text: 'TAN bitte' });
  });

  it('leaves qrFallback out when the core sent none', () => {
    const view = tanChallengeView(enterTan(null));
    expect(view).toEqual({ kind: 'flicker', flicker: FLICKER, text: 'TAN bitte' });
    expect('qrFallback' in view).toBe(false);
  });
});
