import type { AccountSummary, ConnectionSummary, CurrencyTotal, Overview } from '../../bindings';
import { sumDecimals } from '../format/decimal';

export interface BankGroup {
  connectionId: string;
  bankName: string;
  connection: ConnectionSummary | null;
  accounts: AccountSummary[];
  /** Booked balances summed exactly per currency (accounts without a balance are left out). */
  subtotals: CurrencyTotal[];
}

/** Accounts grouped by their bank connection, in the core's connection order, then by first appearance. */
export function groupByBank(overview: Overview): BankGroup[] {
  const groups = new Map<string, BankGroup>();
  for (const connection of overview.connections) {
    groups.set(connection.id, {
      connectionId: connection.id,
      bankName: connection.bank_name,
      connection,
      accounts: [],
      subtotals: [],
    });
  }
  for (const account of overview.accounts) {
    let group = groups.get(account.connection_id);
    if (!group) {
      group = { connectionId: account.connection_id, bankName: account.bank_name, connection: null, accounts: [], subtotals: [] };
      groups.set(account.connection_id, group);
    }
    group.accounts.push(account);
  }
  const result = [...groups.values()].filter((g) => g.accounts.length > 0);
  for (const group of result) {
    const byCurrency = new Map<string, string[]>();
    for (const a of group.accounts) {
      if (a.balance_booked === null) continue;
      byCurrency.set(a.currency, [...(byCurrency.get(a.currency) ?? []), a.balance_booked]);
    }
    group.subtotals = [...byCurrency.entries()].map(([currency, amounts]) => ({ currency, amount: sumDecimals(amounts) }));
  }
  return result;
}

/** Two-letter monogram for a bank without a logo: "Sparkasse KölnBonn" → "SK", "DKB" → "DK". */
export function monogram(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length >= 2 ? [words[0]?.[0], words[1]?.[0]] : [...(words[0] ?? '?')].slice(0, 2);
  return letters.join('').toUpperCase() || '?';
}
