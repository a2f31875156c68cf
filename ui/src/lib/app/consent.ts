import type { ConnectionSummary, DeadlineWarning } from '../../bindings';
import type { Messages } from '../i18n/types';

/** Days ahead the core starts warning (`CONSENT_WARNING_DAYS` in crates/core/src/api/dto.rs). */
export const CONSENT_WARNING_DAYS = 21;

const DAY_MS = 86_400_000;

/** What the overview says about a connection's consent end or access expiry. */
export interface ConnectionDeadline {
  /** A one-time finX import: nothing to sync, no deadline. */
  once: boolean;
  /** The amber warning (the core's `deadline_warnings`), in the user's language. */
  warning: string | null;
  /** The quiet line with the date, when there is no warning. */
  info: string | null;
}

function whole(days: number): number {
  return Math.floor(days);
}

/**
 * The consent end (the bank's, ~180 days) and the finX inactivity deadline (90 days without a
 * sync) as the overview shows them. The core decides *whether* to warn (`deadline_warnings`); the UI
 * words it from the dates, so it reads in the user's language.
 */
export function connectionDeadline(
  connection: ConnectionSummary,
  t: Messages['overview'],
  intl: string,
  now: Date = new Date(),
): ConnectionDeadline {
  if (connection.access_kind === 'finx_onetime') return { once: true, warning: null, info: null };
  const daysUntil = (iso: string | null | undefined): number | null => {
    if (!iso) return null;
    const at = new Date(iso).getTime();
    return Number.isNaN(at) ? null : whole((at - now.getTime()) / DAY_MS);
  };
  const accessDays = daysUntil(connection.access_expires_at);
  const consentDays =
    connection.consent_days_left !== undefined && connection.consent_days_left !== null
      ? connection.consent_days_left
      : daysUntil(connection.consent_expires_at);
  const day = (iso: string) => new Intl.DateTimeFormat(intl, { dateStyle: 'medium' }).format(new Date(iso));

  if (connection.deadline_warnings.length > 0) {
    return { once: false, warning: deadlineWarningText(connection.deadline_warnings, t), info: null };
  }
  if (connection.access_expires_at && accessDays !== null) {
    return { once: false, warning: null, info: t.accessUntil(day(connection.access_expires_at)) };
  }
  if (connection.consent_expires_at && consentDays !== null) {
    return { once: false, warning: null, info: t.consentUntil(day(connection.consent_expires_at)) };
  }
  return { once: false, warning: null, info: null };
}

/** The core's deadline warnings (codes with parameters) in the user's language, one line. */
export function deadlineWarningText(warnings: DeadlineWarning[], t: Messages['overview']): string {
  return warnings
    .map((w) => {
      switch (w.code) {
        case 'consent_ends':
          return t.consentEndsIn(w.days_left);
        case 'consent_ended':
          return t.consentEnded;
        case 'access_ends':
          return t.accessEndsIn(w.days_left);
        case 'access_lost':
          return t.accessLost;
      }
    })
    .join(' · ');
}

/** Connections whose consent or access needs the user soon (the sidebar badge counts them). */
export function needingAttention(connections: ConnectionSummary[]): ConnectionSummary[] {
  return connections.filter((c) => c.deadline_warnings.length > 0);
}
