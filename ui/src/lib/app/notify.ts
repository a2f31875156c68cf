import type { ConnectionSummary } from '../../bindings';
import type { Backend } from '../backend/types';
import type { Messages } from '../i18n/types';

const PREFIX = 'kontor.notified.';

/**
 * Shows one OS notification per connection and consent end once the consent is within its warning
 * days (or over). `seen` remembers which (connection, end date) pairs were already announced, so a
 * restart does not repeat it; a renewed consent (a new end date) is announced again when its time
 * comes. Returns the connections announced now.
 */
export async function notifyDeadlines(
  backend: Pick<Backend, 'notify'>,
  connections: ConnectionSummary[],
  t: Messages['connections'],
  seen: Pick<Storage, 'getItem' | 'setItem'> | undefined,
): Promise<string[]> {
  const announced: string[] = [];
  for (const connection of connections) {
    const warning = connection.deadline_warnings.find((w) => w.code === 'consent_ends' || w.code === 'consent_ended');
    if (!warning) continue;
    const key = `${PREFIX}${connection.id}`;
    const mark = connection.consent_expires_at ?? 'unknown';
    if (seen?.getItem(key) === mark) continue;
    seen?.setItem(key, mark);
    const body =
      warning.code === 'consent_ends'
        ? t.notifyBody(connection.bank_name, warning.days_left)
        : t.notifyEnded(connection.bank_name);
    try {
      await backend.notify(t.notifyTitle, body);
      announced.push(connection.id);
    } catch {
      // no notification service: the badge and the amber state still say it
    }
  }
  return announced;
}
