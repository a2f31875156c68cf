import { Channel, invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type {
  ConnectionDetail,
  RemovedConnection,
  SyncEntry,
  Preferences,
  AppStatus,
  BankSearchHit,
  FlowUpdate,
  KeySourceDto,
  NewProviderConfig,
  Overview,
  PendingFlow,
  ProviderConfigSummary,
  StartFinxLink,
  StartLink,
  StoredIncomeReport,
  UserAnswer,
} from '../../bindings';
import { coreQuery, PageTotals, uiDetail, uiMonthlySums } from './coreTransactions';
import { toKontorError } from './errors';
import {
  CALLBACK_RESULT_EVENT,
  FLOW_PROGRESS_EVENT,
  type Backend,
  type CallbackResult,
  type CommandName,
  type Commands,
  type ProgressHandler,
  type Unsubscribe,
  type BalancePoint,
  type ExportFormat,
  type MonthlySums,
  type TransactionDetail,
  type TransactionExportQuery,
  type TransactionPage,
  type TransactionQuery,
} from './types';
import type { Locale } from '../i18n/types';
import type { StartupMark } from '../app/startupMarks';

/** A channel for one job's progress (ignored when nobody listens). */
function progress(handler: ProgressHandler | undefined): Channel<FlowUpdate> {
  const channel = new Channel<FlowUpdate>();
  channel.onmessage = (update) => handler?.(update);
  return channel;
}

/** The real backend: Tauri IPC to the Rust core. Each method is one typed `invoke`. */
export class TauriBackend implements Backend {
  readonly kind = 'tauri' as const;
  private readonly pageTotals = new PageTotals();

  private async call<C extends CommandName>(command: C, args: Commands[C]['args']): Promise<Commands[C]['result']> {
    try {
      return await invoke<Commands[C]['result']>(command, args as Record<string, unknown>);
    } catch (err) {
      throw toKontorError(err);
    }
  }

  private async listen<T>(event: string, handler: (payload: T) => void): Promise<Unsubscribe> {
    try {
      return await listen<T>(event, (e) => handler(e.payload));
    } catch (err) {
      throw toKontorError(err);
    }
  }

  appStatus(): Promise<AppStatus> {
    return this.call('app_status', {});
  }

  createVaultWithPassphrase(passphrase: string): Promise<AppStatus> {
    return this.call('create_vault_with_passphrase', { passphrase });
  }

  unlockVault(passphrase: string): Promise<AppStatus> {
    return this.call('unlock_vault', { passphrase });
  }

  changeKeySource(target: KeySourceDto, passphrase?: string): Promise<AppStatus> {
    return this.call('change_key_source', { target, passphrase: passphrase ?? null });
  }

  completeOnboarding(): Promise<AppStatus> {
    return this.call('complete_onboarding', {});
  }

  preferences(): Promise<Preferences> {
    return this.call('preferences', {});
  }

  setPreferences(preferences: Preferences): Promise<Preferences> {
    return this.call('set_preferences', { preferences });
  }

  overview(): Promise<Overview> {
    return this.call('overview', {});
  }

  async overviewPainted(marks: StartupMark[]): Promise<void> {
    await this.call('overview_painted', { marks });
  }

  async transactions(query: TransactionQuery): Promise<TransactionPage> {
    return this.pageTotals.page(query, await this.call('transactions', { query: coreQuery(query) }));
  }

  async transaction(id: string): Promise<TransactionDetail> {
    return uiDetail(await this.call('transaction', { id: Number(id) }));
  }

  async accountMonthlySums(accountId: string): Promise<MonthlySums[]> {
    return uiMonthlySums(await this.call('monthly_flows', { query: { accounts: [accountId], status: 'booked' } }));
  }

  accountBalanceSeries(accountId: string): Promise<BalancePoint[]> {
    return this.call('balance_history', { accountId });
  }

  exportTransactions(query: TransactionExportQuery, format: ExportFormat, locale: Locale): Promise<string | null> {
    return this.call('export_transactions', { query: coreQuery(query), format, locale });
  }

  providerConfigs(): Promise<ProviderConfigSummary[]> {
    return this.call('provider_configs', {});
  }

  addProviderConfig(config: NewProviderConfig): Promise<ProviderConfigSummary> {
    return this.call('add_provider_config', { config });
  }

  startFinxLink(request: StartFinxLink, onProgress?: ProgressHandler): Promise<FlowUpdate> {
    return this.call('start_finx_link', { request, onProgress: progress(onProgress) });
  }

  incomeReports(): Promise<StoredIncomeReport[]> {
    return this.call('income_reports', {});
  }

  incomeReport(id: string): Promise<StoredIncomeReport> {
    return this.call('income_report', { id });
  }

  searchBanks(providerConfigId: string, query: string): Promise<BankSearchHit[]> {
    return this.call('search_banks', { providerConfigId, query });
  }

  startLink(request: StartLink, onProgress?: ProgressHandler): Promise<FlowUpdate> {
    return this.call('start_link', { request, onProgress: progress(onProgress) });
  }

  answerFlow(flowId: string, answer: UserAnswer, onProgress?: ProgressHandler): Promise<FlowUpdate> {
    return this.call('answer_flow', { flowId, answer, onProgress: progress(onProgress) });
  }

  cancelFlow(flowId: string): Promise<FlowUpdate> {
    return this.call('cancel_flow', { flowId });
  }

  pendingFlows(): Promise<PendingFlow[]> {
    return this.call('pending_flows', {});
  }

  syncConnection(connectionId: string, onProgress?: ProgressHandler): Promise<FlowUpdate> {
    return this.call('sync_connection', { connectionId, onProgress: progress(onProgress) });
  }

  syncAll(onProgress?: ProgressHandler): Promise<FlowUpdate[]> {
    return this.call('sync_all', { onProgress: progress(onProgress) });
  }

  async openInBrowser(url: string): Promise<void> {
    await this.call('open_in_browser', { url });
  }

  connections(): Promise<ConnectionDetail[]> {
    return this.call('connections', {});
  }

  async renameAccount(accountId: string, name: string | null): Promise<void> {
    await this.call('rename_account', { accountId, name });
  }

  async setAccountHidden(accountId: string, hidden: boolean): Promise<void> {
    await this.call('set_account_hidden', { accountId, hidden });
  }

  async reorderAccounts(connectionId: string, ordered: string[]): Promise<void> {
    await this.call('reorder_accounts', { connectionId, ordered });
  }

  async keepAccount(accountId: string): Promise<void> {
    await this.call('keep_account', { accountId });
  }

  syncHistory(connectionId?: string): Promise<SyncEntry[]> {
    return this.call('sync_history', { connectionId: connectionId ?? null });
  }

  removeConnection(connectionId: string): Promise<RemovedConnection> {
    return this.call('remove_connection', { connectionId });
  }

  renewConsent(connectionId: string, onProgress?: ProgressHandler): Promise<FlowUpdate> {
    return this.call('renew_consent', { connectionId, onProgress: progress(onProgress) });
  }

  async notify(title: string, body: string): Promise<void> {
    await this.call('notify', { title, body });
  }

  takeCallbackResults(): Promise<CallbackResult[]> {
    return this.call('take_callback_results', {});
  }

  async pasteCallback(url: string): Promise<void> {
    await this.call('paste_callback', { url });
  }

  onCallbackResult(handler: () => void): Promise<Unsubscribe> {
    return this.listen<null>(CALLBACK_RESULT_EVENT, () => handler());
  }

  onFlowProgress(handler: ProgressHandler): Promise<Unsubscribe> {
    return this.listen<FlowUpdate>(FLOW_PROGRESS_EVENT, handler);
  }
}

/** True inside the Tauri webview (the IPC bridge is injected before any page script runs). */
export function isTauri(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}
