import type { SyncWarning } from '../../bindings';
import type { I18n } from './index';

/**
 * A sync warning (a code with parameters from the core) in the user's language. Amounts arrive as
 * exact decimal strings and are formatted like every other amount.
 */
export function syncWarningText(warning: SyncWarning, i18n: I18n): string {
  const de = i18n.locale === 'de';
  switch (warning.code) {
    case 'account_not_delivered':
      return de
        ? `Die Bank konnte für ${warning.account_name} keine neuen Daten senden.`
        : `The bank could not send new data for ${warning.account_name}.`;
    case 'withdrawn_removed':
      return de
        ? warning.count === 1
          ? 'Eine Buchung, die die Bank zurückgezogen hat, wurde entfernt.'
          : `${warning.count} Buchungen, die die Bank zurückgezogen hat, wurden entfernt.`
        : warning.count === 1
          ? 'One booking the bank withdrew was removed.'
          : `${warning.count} bookings the bank withdrew were removed.`;
    case 'unknown_account_skipped':
      return de
        ? `${warning.count} Buchungen von Konten, die Kontor nicht kennt, wurden übersprungen.`
        : `${warning.count} bookings of accounts Kontor does not know were skipped.`;
    case 'balance_mismatch': {
      const reported = i18n.money(warning.reported, warning.currency);
      const expected = i18n.money(warning.expected, warning.currency);
      return de
        ? `Der Kontostand von ${warning.account_name} geht nicht auf: Die Bank meldet ${reported}, der vorige Stand plus die neuen Buchungen ergibt ${expected}. Womöglich fehlen Buchungen; synchronisieren Sie später noch einmal.`
        : `The balance of ${warning.account_name} does not add up: the bank reports ${reported}, the previous balance plus the new bookings make ${expected}. Bookings may be missing; sync again later.`;
    }
  }
}
