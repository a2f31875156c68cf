import type {
  BankSearchHit,
  ConnectionSummary,
  FinxFlow,
  FlowUpdate,
  KontorError,
  ProviderConfigSummary,
  UserAnswer,
  StoredIncomeReport,
  SyncWarning,
  UserRequest,
  WorkStep,
} from '../../bindings';
import { toKontorError } from '../backend/errors';
import type { Backend, CallbackResult } from '../backend/types';

/** Where the link dialog stands. */
export type LinkPhase =
  | { kind: 'loading' }
  /** No provider could be loaded (e.g. the Demo Bank did not start). */
  | { kind: 'unavailable'; error: KontorError | null }
  | { kind: 'choose-provider' }
  | { kind: 'search' }
  /** A finX provider: choose the flow (ongoing, one-time, income report); the bank is chosen in the widget. */
  | { kind: 'finx-options' }
  /** The flow waits for the user; `error` says why the previous answer was refused. */
  | { kind: 'request'; flowId: string; request: UserRequest; error: KontorError | null }
  | { kind: 'done'; connection: ConnectionSummary; added: number; warnings: SyncWarning[] }
  | { kind: 'failed'; error: KontorError }
  /** A finX income report was made and stored. */
  | { kind: 'report'; report: StoredIncomeReport };

/** What the dialog was opened for: any link, or straight to a finX income report. */
export type LinkIntent = 'link' | 'income_report';

/** Parses the optional IBAN field of the finX step: separated by commas, semicolons or line breaks. */
export function parseIbans(text: string): { ibans: string[]; invalid: string[] } {
  const IBAN = /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/;
  const parts = text
    .split(/[,;\n]+/)
    .map((p) => p.replace(/\s+/g, '').toUpperCase())
    .filter((p) => p.length > 0);
  return { ibans: parts.filter((p) => IBAN.test(p)), invalid: parts.filter((p) => !IBAN.test(p)) };
}

export const SEARCH_DEBOUNCE_MS = 250;

/**
 * The bank-linking flow behind LinkBankDialog: provider → bank search → every request of the core's
 * SCA machine until done or failed. It only renders what the core asks and sends the answers back;
 * it decides nothing about SCA itself.
 */
export class LinkFlow {
  phase = $state<LinkPhase>({ kind: 'loading' });
  providers = $state<ProviderConfigSummary[]>([]);
  provider = $state<ProviderConfigSummary | null>(null);
  query = $state('');
  results = $state<BankSearchHit[] | null>(null);
  searching = $state(false);
  searchError = $state<KontorError | null>(null);
  bank = $state<BankSearchHit | null>(null);
  /** The bank's name where no search hit is at hand (a resumed flow). */
  bankName = $state<string | null>(null);
  /** A call is in flight (start, answer, cancel). */
  busy = $state(false);
  /** The step the core reported last while busy. */
  step = $state<WorkStep | null>(null);
  /** A message about a callback that did not fit (e.g. an outdated link); the flow is unchanged. */
  notice = $state<KontorError | null>(null);
  /** An error opening the browser. */
  browserError = $state<KontorError | null>(null);
  /** The finX flow chosen (finX providers only). */
  finxFlow = $state<FinxFlow>('ongoing');
  /** The optional IBANs of the finX step, as typed. */
  finxIbans = $state('');
  /** The finX flow that was started last (for retry and for the done screen). */
  startedFinx = $state<FinxFlow | null>(null);
  /** Providers offered: when a real one is set up, the Demo Bank's are not (it no longer runs). */
  intent: LinkIntent = 'link';

  private readonly backend: Backend;
  /** Bumped on cancel/close: answers to an older generation are dropped. */
  private generation = 0;
  private searchSeq = 0;
  private closed = false;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  get flowId(): string | null {
    return this.phase.kind === 'request' ? this.phase.flowId : null;
  }

  async load(intent: LinkIntent = this.intent): Promise<void> {
    this.intent = intent;
    this.phase = { kind: 'loading' };
    try {
      const all = await this.backend.providerConfigs();
      // Real providers replace the Demo Bank (which is not started once one exists).
      let providers = all.some((p) => !p.is_demo) ? all.filter((p) => !p.is_demo) : all;
      if (intent === 'income_report') providers = providers.filter((p) => p.kind === 'finx');
      this.providers = providers;
      if (providers.length === 0) {
        this.phase = { kind: 'unavailable', error: null };
      } else if (providers.length === 1) {
        this.chooseProvider(providers[0] as ProviderConfigSummary);
      } else {
        this.provider = providers.find((p) => p.is_demo && p.kind === 'finapi') ?? providers[0] ?? null;
        this.phase = { kind: 'choose-provider' };
      }
    } catch (err) {
      this.phase = { kind: 'unavailable', error: toKontorError(err) };
    }
  }

  /** Continues a flow the core already started (a sync that needs the user, a callback). */
  resume(update: FlowUpdate, bankName: string): void {
    this.bankName = bankName || null;
    this.settle(update);
  }

  chooseProvider(provider: ProviderConfigSummary): void {
    this.provider = provider;
    this.results = null;
    this.searchError = null;
    if (provider.kind === 'finx') {
      this.finxFlow = this.intent === 'income_report' ? 'income_report' : 'ongoing';
      this.phase = { kind: 'finx-options' };
    } else {
      this.phase = { kind: 'search' };
    }
  }

  /** finX: opens the widget for the chosen flow (the bank and accounts are chosen there). */
  async startFinx(flow: FinxFlow = this.finxFlow, ibans: string[] = parseIbans(this.finxIbans).ibans): Promise<void> {
    const provider = this.provider;
    if (!provider || provider.kind !== 'finx' || this.busy) return;
    this.bank = null;
    this.bankName = provider.is_demo ? null : provider.label;
    this.notice = null;
    this.startedFinx = flow;
    this.lastFinxIbans = ibans;
    await this.run(() =>
      this.backend.startFinxLink(
        {
          provider_config_id: provider.id,
          flow,
          user_id: null,
          provider_id: null,
          accounts: ibans,
          save_secrets: null,
          sync_period_days: null,
          reporting_period_months: null,
          callback_url: null,
        },
        this.progress(),
      ),
    );
  }

  private lastFinxIbans: string[] = [];

  /** Back to the provider list (only offered when there is more than one). */
  changeProvider(): void {
    this.phase = { kind: 'choose-provider' };
  }

  async search(query: string = this.query): Promise<void> {
    const provider = this.provider;
    const text = query.trim();
    const seq = ++this.searchSeq;
    if (!provider || text.length === 0) {
      this.results = null;
      this.searching = false;
      return;
    }
    this.searching = true;
    this.searchError = null;
    try {
      const hits = await this.backend.searchBanks(provider.id, text);
      if (seq === this.searchSeq) this.results = hits;
    } catch (err) {
      if (seq === this.searchSeq) {
        this.searchError = toKontorError(err);
        this.results = null;
      }
    } finally {
      if (seq === this.searchSeq) this.searching = false;
    }
  }

  /** Starts linking the chosen bank. */
  async pick(bank: BankSearchHit): Promise<void> {
    const provider = this.provider;
    if (!provider || this.busy) return;
    this.bank = bank;
    this.notice = null;
    await this.run(() =>
      this.backend.startLink(
        { provider_config_id: provider.id, bank_id: bank.id, interface: null, callback_url: null },
        this.progress(),
      ),
    );
  }

  async answer(answer: UserAnswer): Promise<void> {
    const flowId = this.flowId;
    if (!flowId || this.busy) return;
    this.notice = null;
    await this.run(() => this.backend.answerFlow(flowId, answer, this.progress()));
  }

  /**
   * "Approve in your app": keeps answering `continue` (the core polls the bank at the pace it
   * allows) until the request changes, the flow ends, or the user cancels.
   */
  async pollApproval(minSpacingMs = 1000): Promise<void> {
    const generation = this.generation;
    const waiting = () =>
      !this.closed &&
      generation === this.generation &&
      this.phase.kind === 'request' &&
      this.phase.request.kind === 'approve_in_app' &&
      this.phase.error === null;
    while (waiting() && !this.busy) {
      const started = Date.now();
      await this.answer({ kind: 'continue' });
      // The core sleeps until the next poll is due; never spin faster than this if it does not.
      const rest = minSpacingMs - (Date.now() - started);
      if (rest > 0 && waiting()) await new Promise((resolve) => setTimeout(resolve, rest));
    }
  }

  /** Opens the bank's page (again). */
  async openBrowser(url: string): Promise<void> {
    this.browserError = null;
    try {
      await this.backend.openInBrowser(url);
    } catch (err) {
      this.browserError = toKontorError(err);
    }
  }

  /**
   * The callback address the user pasted (the browser could not hand it back); its outcome arrives like any
   * callback's. Returns the refusal, or null once the address was taken.
   */
  async pasteCallback(url: string): Promise<KontorError | null> {
    try {
      await this.backend.pasteCallback(url);
      return null;
    } catch (err) {
      return toKontorError(err);
    }
  }

  /** After a failure: start the same bank again. */
  async retry(): Promise<void> {
    const bank = this.bank;
    if (this.startedFinx && this.provider?.kind === 'finx') await this.startFinx(this.startedFinx, this.lastFinxIbans);
    else if (bank) await this.pick(bank);
    else this.phase = { kind: 'search' };
  }

  /** Back from a failure to the bank search (finX: to the choice of flow). */
  backToSearch(): void {
    this.phase = this.provider?.kind === 'finx' ? { kind: 'finx-options' } : { kind: 'search' };
  }

  /** Escape, Cancel, ×: cancels a running flow at the core (best effort) and stops listening. */
  async close(): Promise<void> {
    this.closed = true;
    this.generation++;
    const flowId = this.pendingFlowId;
    this.pendingFlowId = null;
    if (flowId) {
      try {
        await this.backend.cancelFlow(flowId);
      } catch {
        // Already ended at the core: nothing left to cancel.
      }
    }
  }

  /**
   * A callback result from the shell. Returns true when it belongs to this flow (a bank redirect we
   * are waiting for); the dialog then shows where the flow went on.
   */
  handleCallbackResult(result: CallbackResult): boolean {
    if (this.closed || this.phase.kind !== 'request' || this.phase.request.kind !== 'open_browser') return false;
    if (result.kind === 'update') {
      const update = result.update;
      const flowId = 'flow_id' in update ? update.flow_id : null;
      if (flowId !== null && flowId !== this.phase.flowId) return false;
    }
    this.busy = false;
    this.step = null;
    if (result.kind === 'error') {
      if (result.error.code === 'ScaStateMismatch') {
        this.notice = result.error;
        return true;
      }
      this.settle({ status: 'failed', flow_id: this.phase.flowId, error: result.error });
      return true;
    }
    this.settle(result.update);
    return true;
  }

  /** Progress of the callback's continuation, which no command of ours started. */
  handleBackgroundProgress(update: FlowUpdate): void {
    if (this.phase.kind !== 'request' || this.phase.request.kind !== 'open_browser') return;
    if (update.status === 'working' && (update.flow_id === null || update.flow_id === this.phase.flowId)) {
      this.step = update.step;
      this.busy = true;
    }
  }

  /** The flow id the core still holds open (so closing can cancel it). */
  private pendingFlowId: string | null = null;

  private progress(): (update: FlowUpdate) => void {
    const generation = this.generation;
    return (update) => {
      if (generation === this.generation && update.status === 'working') this.step = update.step;
    };
  }

  private async run(call: () => Promise<FlowUpdate>): Promise<void> {
    const generation = this.generation;
    this.busy = true;
    this.step = null;
    try {
      const update = await call();
      if (generation !== this.generation) return;
      this.settle(update);
    } catch (err) {
      if (generation !== this.generation) return;
      const error = toKontorError(err);
      if (this.phase.kind === 'request') {
        // The core refused the answer without ending the flow (e.g. busy): keep the request.
        this.phase = { ...this.phase, error };
      } else {
        this.phase = { kind: 'failed', error };
      }
    } finally {
      if (generation === this.generation) {
        this.busy = false;
        this.step = null;
      }
    }
  }

  private settle(update: FlowUpdate): void {
    switch (update.status) {
      case 'needs_input':
        this.pendingFlowId = update.flow_id;
        this.phase = { kind: 'request', flowId: update.flow_id, request: update.request, error: update.error };
        break;
      case 'done':
        this.pendingFlowId = null;
        this.phase = { kind: 'done', connection: update.connection, added: update.added, warnings: update.warnings };
        break;
      case 'failed':
        this.pendingFlowId = null;
        this.phase = { kind: 'failed', error: update.error };
        break;
      case 'report_ready':
        this.pendingFlowId = null;
        this.phase = { kind: 'report', report: update.report };
        break;
      case 'working':
        this.step = update.step;
        break;
    }
  }
}
