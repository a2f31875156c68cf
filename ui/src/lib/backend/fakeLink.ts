import { ibanWithCheckDigits } from '../format/iban';
import type {
  AccountSummary,
  BankSearchHit,
  ConnectionSummary,
  FinxFlow,
  FlickerCode,
  FlowUpdate,
  IncomeReport,
  ReportFigures,
  ReportGroup,
  StoredIncomeReport,
  PendingFlow,
  ProviderConfigSummary,
  ScaProcedure,
  UserAnswer,
  UserRequest,
} from '../../bindings';
import { kontorError } from './errors';

/**
 * The Demo Bank, scripted for the fake backend: the same banks, login (`demo`/`demo`), TAN
 * (`123456`) and SCA styles as `crates/sandbox`, so every request of the link dialog can be
 * rendered and answered in Vitest and in the browser preview without Rust.
 */
export const FAKE_DEMO_PROVIDER: ProviderConfigSummary = {
  id: 'demo',
  kind: 'finapi',
  label: 'Demo Bank',
  base_url: 'http://127.0.0.1:0',
  client_id: 'kontor-demo',
  api_version: 'v2',
  is_demo: true,
};

/** The Demo Bank's finX face (the same server, another API). */
export const FAKE_DEMO_FINX_PROVIDER: ProviderConfigSummary = {
  id: 'demo-finx',
  kind: 'finx',
  label: 'Demo Bank (finX)',
  base_url: 'http://127.0.0.1:0',
  client_id: 'kontor-demo',
  api_version: 'finx',
  is_demo: true,
};

export const FAKE_TAN = '123456';

function figures(total: string, low: string, high: string, average: string, count: number | null, ratio: string | null = null): ReportFigures {
  return { total, low, high, average, count, ratio };
}

function group(id: string, name: string, partner: string, f: ReportFigures): ReportGroup {
  return {
    category_id: id,
    category: name,
    summary: f,
    streams: [
      { category_id: id, category: name, first_booked_on: '2025-10-01', last_booked_on: '2026-02-27', payment_partner: partner, summary: f },
    ],
  };
}

/** An income report as the Demo Bank's finX face computes it (5 complete months of history). */
export function fakeIncomeReport(id: string): IncomeReport {
  const salary = figures('16250.00', '3250.00', '3250.00', '3250.00', 5);
  const interest = figures('12.35', '0.00', '4.10', '2.47', 3);
  return {
    id,
    period_months: 5,
    currency: 'EUR',
    income: {
      category_id: null,
      category: null,
      summary: figures('16262.35', '3250.00', '3254.10', '3252.47', 8),
      streams: [
        { category_id: 'income.salary', category: 'Gehalt und Lohn', first_booked_on: '2025-10-30', last_booked_on: '2026-02-27', payment_partner: 'Muster GmbH', summary: salary },
        { category_id: 'income.interest', category: 'Zinsen', first_booked_on: '2025-10-31', last_booked_on: '2026-02-27', payment_partner: 'Demo Bank', summary: interest },
      ],
    },
    primary_income: null,
    regular_expenses: [
      group('housing', 'Wohnen', 'Hausverwaltung Schmidt', figures('4750.00', '950.00', '950.00', '950.00', 5)),
      group('insurance', 'Versicherungen', 'Allianz', figures('412.50', '82.50', '82.50', '82.50', 5)),
    ],
    variable_expenses: [group('groceries', 'Lebensmittel', 'REWE', figures('2207.45', '389.10', '512.80', '441.49', 23))],
    disposable_income: figures('8892.40', '1702.60', '1826.38', '1778.48', null, '0.55'),
    discretionary_income: null,
  };
}

export function fakeStoredReport(id: string, createdAt = new Date().toISOString()): StoredIncomeReport {
  return { id, created_at: createdAt, report: fakeIncomeReport(id) };
}

const LOGIN = [
  { label: 'Onlinebanking-ID', secret: false, volatile: false, mandatory: true },
  { label: 'PIN', secret: true, volatile: false, mandatory: true },
];

function bank(id: string, name: string, n: number, props: { redirect?: boolean; decoupled?: boolean; consent?: boolean }): BankSearchHit {
  return {
    id,
    name,
    bic: `DEMODE0${n}XXX`,
    blz: `DEMO000${n}`,
    city: null,
    is_test_bank: true,
    interfaces: [
      {
        id: 'XS2A',
        login_fields: LOGIN,
        redirect: props.redirect ?? false,
        decoupled: props.decoupled ?? false,
        detailed_consent: props.consent ?? false,
        login_hint: props.consent ? 'Test-IBANs: DE12280003000000000001, DE82280003000000000002' : null,
        health: 100,
      },
    ],
  };
}

export const FAKE_BANKS: BankSearchHit[] = [
  bank('280001', 'finAPI Test Bank', 1, { decoupled: true }),
  bank('280002', 'finAPI Test Redirect Bank', 2, { redirect: true }),
  bank('280003', 'finAPI Test Consent Bank', 3, { consent: true }),
  bank('280004', 'finAPI Test Decoupled Bank', 4, { decoupled: true }),
  {
    id: '10001',
    name: 'Berliner Sparkasse',
    bic: 'BELADEBEXXX',
    blz: '10050000',
    city: 'Berlin',
    is_test_bank: false,
    interfaces: [],
  },
];

export const FAKE_PROCEDURES: ScaProcedure[] = [
  { id: 'DEMO-TSP-01', name: 'smsTan', kind: 'text' },
  { id: 'DEMO-TSP-02', name: 'pushTan', kind: 'text' },
  { id: 'DEMO-TSP-03', name: 'chipTan optical', kind: 'flicker' },
  { id: 'DEMO-TSP-04', name: 'chipTan QR', kind: 'photo' },
  { id: 'DEMO-TSP-05', name: 'Demo Decoupled Auth', kind: 'text' },
];

export const FAKE_FLICKER: FlickerCode = {
  version: '1.4',
  start_code: { value: '2045201998', encoding: 'BCD' },
  control_bytes: [1],
  data_elements: [{ value: '12345678', encoding: 'BCD' }],
  render_hex: '0D85012045201998041234567855',
  luhn: '5',
  xor: '5',
};

/** A 1×1 PNG: enough for an <img> with a natural width. */
export const FAKE_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

type Stage = 'credentials' | 'accounts' | 'procedure' | 'tan' | 'browser' | 'approve';

interface FakeFlow {
  id: string;
  bank: BankSearchHit;
  stage: Stage;
  procedure: ScaProcedure | null;
  wrongTans: number;
  /** Answers of `continue` still to wait before the approval arrives. */
  pollsLeft: number;
  state: string;
  createdAt: string;
  /** A finX widget flow (the bank is chosen in the widget). */
  finx?: FinxFlow;
  /** A sync of this existing connection that needs a TAN, not a new link. */
  syncOf?: ConnectionSummary;
}

/** What the fake core needs to record a linked bank. */
export interface FakeLinkSink {
  link(connection: ConnectionSummary, accounts: AccountSummary[]): void;
  report(report: StoredIncomeReport): void;
}

/** The bank the finX widget "chooses" in the fake. */
const FINX_BANK: BankSearchHit = {
  id: '9d6a1c8e-5f0b-4e7a-9c1d-28000500a001',
  name: 'Demo Bank (TAN-Auswahl)',
  bic: 'DEMODE05XXX',
  blz: '28000500',
  city: null,
  is_test_bank: true,
  interfaces: [],
};

let counter = 0;
const nextId = (prefix: string) => `${prefix}-${++counter}`;

/** The scripted linking flows of the fake backend. */
export class FakeLinking {
  readonly flows = new Map<string, FakeFlow>();
  /** `continue` answers before an app approval arrives. */
  approvalPolls = 1;
  /** `store_secrets` of every credentials answer, in order (the login step's checkbox). */
  readonly storeSecretsAnswers: boolean[] = [];

  constructor(private readonly sink: FakeLinkSink) {}

  search(query: string): BankSearchHit[] {
    const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
    if (terms.length === 0) throw kontorError('InvalidInput', 'Enter a bank name, BLZ, BIC or IBAN.');
    return structuredClone(
      FAKE_BANKS.filter((b) => {
        const hay = [b.name, b.bic, b.blz, b.city, b.id].filter(Boolean).join(' ').toLowerCase();
        return terms.every((t) => hay.includes(t));
      }),
    );
  }

  start(bankId: string): FlowUpdate {
    const found = FAKE_BANKS.find((b) => b.id === bankId);
    if (!found) throw kontorError('NotFound', 'This bank does not exist.');
    if (found.interfaces.length === 0) throw kontorError('NotSupported', `${found.name} cannot be linked.`);
    const flow: FakeFlow = {
      id: nextId('flow'),
      bank: found,
      stage: 'credentials',
      procedure: null,
      wrongTans: 0,
      pollsLeft: this.approvalPolls,
      state: nextId('state'),
      createdAt: new Date().toISOString(),
    };
    this.flows.set(flow.id, flow);
    return this.ask(flow);
  }

  /** A sync of `connection` whose bank asks for a TAN first (smsTan); the TAN finishes the sync. */
  startSyncTan(connection: ConnectionSummary): FlowUpdate {
    const flow: FakeFlow = {
      id: nextId('flow'),
      bank: { ...FINX_BANK, id: connection.id, name: connection.bank_name },
      stage: 'tan',
      procedure: FAKE_PROCEDURES[0] ?? null,
      wrongTans: 0,
      pollsLeft: 0,
      state: nextId('state'),
      createdAt: new Date().toISOString(),
      syncOf: connection,
    };
    this.flows.set(flow.id, flow);
    return this.ask(flow);
  }

  /** A finX widget flow: waits in the browser until `callback` carries its state. */
  startFinx(kind: FinxFlow): FlowUpdate {
    const flow: FakeFlow = {
      id: nextId('flow'),
      bank: FINX_BANK,
      stage: 'browser',
      procedure: null,
      wrongTans: 0,
      pollsLeft: 0,
      state: nextId('state'),
      createdAt: new Date().toISOString(),
      finx: kind,
    };
    this.flows.set(flow.id, flow);
    return this.ask(flow);
  }

  answer(flowId: string, answer: UserAnswer): FlowUpdate {
    const flow = this.flows.get(flowId);
    if (!flow) throw kontorError('NotFound', 'There is no pending bank authentication with this id.');
    switch (flow.stage) {
      case 'credentials': {
        if (answer.kind !== 'credentials') return this.ask(flow, 'InvalidInput', 'Enter your login.');
        this.storeSecretsAnswers.push(answer.store_secrets);
        const value = (label: string) => answer.values.find((v) => v.label === label)?.value ?? '';
        if (value('Onlinebanking-ID') !== 'demo' || value('PIN') !== 'demo') {
          return this.ask(flow, 'CredentialsRejected', 'The bank rejected the login.', 'Die Anmeldung ist fehlgeschlagen. (9942 PIN falsch)');
        }
        if (flow.bank.id === '280002') flow.stage = 'browser';
        else if (flow.bank.id === '280003') flow.stage = 'accounts';
        else if (flow.bank.id === '280004') flow.stage = 'approve';
        else flow.stage = 'procedure';
        return this.ask(flow);
      }
      case 'accounts':
        if (answer.kind !== 'accounts' || answer.ibans.length === 0) return this.ask(flow, 'InvalidInput', 'Name at least one IBAN.');
        flow.procedure = FAKE_PROCEDURES[0] ?? null;
        flow.stage = 'tan';
        return this.ask(flow);
      case 'procedure': {
        const chosen = answer.kind === 'procedure' ? FAKE_PROCEDURES.find((p) => p.id === answer.id) : undefined;
        if (!chosen) return this.ask(flow, 'InvalidInput', 'Choose a method.');
        flow.procedure = chosen;
        flow.stage = chosen.id === 'DEMO-TSP-05' ? 'approve' : 'tan';
        return this.ask(flow);
      }
      case 'tan':
        if (answer.kind !== 'tan') return this.ask(flow);
        if (answer.tan.trim() !== FAKE_TAN) {
          flow.wrongTans += 1;
          if (flow.wrongTans >= 3) return this.fail(flow, 'TanRejected', 'The TAN was wrong too often.');
          // Like finAPI: a refused TAN ends the bank's flow; the core starts a new one, whose first
          // question (the method, where the bank offers several) comes with the refusal.
          if (flow.bank.id === '280001') flow.stage = 'procedure';
          return this.ask(
            flow,
            'TanRejected',
            'The bank did not accept the TAN and ended that authentication. Kontor has started a new one.',
            'TAN ungültig. Bitte starten Sie den Vorgang erneut. (9941)',
          );
        }
        return this.finish(flow);
      case 'approve':
        if (answer.kind !== 'continue') return this.ask(flow);
        if (flow.pollsLeft > 0) {
          flow.pollsLeft -= 1;
          return this.ask(flow);
        }
        return this.finish(flow);
      case 'browser':
        return this.ask(flow);
    }
  }

  cancel(flowId: string): FlowUpdate {
    const flow = this.flows.get(flowId);
    if (!flow) throw kontorError('NotFound', 'There is no pending bank authentication with this id.');
    return this.fail(flow, 'ScaCancelled', 'The authentication was cancelled.');
  }

  /** A kontor:// URL: continues the redirect flow whose `state` it carries, else refuses. */
  callback(url: string): FlowUpdate {
    let state: string | null = null;
    let error: string | null = null;
    try {
      const params = new URL(url).searchParams;
      state = params.get('state');
      error = params.get('error');
    } catch {
      // not a URL: no state
    }
    const flow = [...this.flows.values()].find((f) => f.stage === 'browser' && f.state === state);
    if (!flow) {
      throw kontorError(
        'ScaStateMismatch',
        'This link does not belong to any pending bank authentication. Nothing was changed.',
      );
    }
    if (error) return this.fail(flow, 'ScaCancelled', 'You cancelled at the bank.');
    if (flow.finx === 'income_report') {
      this.flows.delete(flow.id);
      const report = fakeStoredReport(nextId('report'));
      this.sink.report(report);
      return { status: 'report_ready', report: structuredClone(report) };
    }
    return this.finish(flow);
  }

  pending(): PendingFlow[] {
    return [...this.flows.values()].map((f) => ({
      flow_id: f.id,
      provider_config_id: FAKE_DEMO_PROVIDER.id,
      purpose: 'link',
      bank_name: f.bank.name,
      request: this.request(f),
      created_at: f.createdAt,
      expires_at: f.createdAt,
    }));
  }

  /** The redirect URL the bank would send back for a flow waiting in the browser. */
  callbackUrlFor(flowId: string): string {
    const flow = this.flows.get(flowId);
    return `kontor://sca-callback?state=${flow?.state ?? 'unknown'}&code=ok`;
  }

  private request(flow: FakeFlow): UserRequest {
    switch (flow.stage) {
      case 'credentials':
        return { kind: 'enter_credentials', bank_name: flow.bank.name, fields: LOGIN, hint: flow.bank.interfaces[0]?.login_hint ?? null };
      case 'accounts':
        return { kind: 'select_accounts', known_ibans: [] };
      case 'procedure':
        return { kind: 'choose_procedure', message: 'Bitte wählen Sie ein TAN-Verfahren.', procedures: FAKE_PROCEDURES };
      case 'tan': {
        const prompt = 'Bitte geben Sie die TAN ein, die Sie erhalten haben.';
        if (flow.procedure?.kind === 'flicker') {
          const challenge = { kind: 'flicker' as const, optical_data: FAKE_FLICKER.render_hex, reiner_sct: false, flicker: FAKE_FLICKER, qr_fallback: null };
          return { kind: 'enter_tan', prompt, label: 'TAN', challenge };
        }
        if (flow.procedure?.kind === 'photo') {
          return { kind: 'enter_tan', prompt, label: 'TAN', challenge: { kind: 'photo', mime_type: 'image/png', data_base64: FAKE_PNG } };
        }
        return { kind: 'enter_tan', prompt: `Es ist eine zusätzliche Authentifizierung erforderlich. Code: ${FAKE_TAN}`, label: 'TAN', challenge: { kind: 'text' } };
      }
      case 'browser':
        if (flow.finx) return { kind: 'open_browser', url: `http://127.0.0.1:0/finx/widget?token=${flow.state}` };
        return { kind: 'open_browser', url: `https://demo-bank.invalid/redirect/${flow.state}` };
      case 'approve':
        return { kind: 'approve_in_app', message: 'Bitte bestätigen Sie auf Ihrem externen Gerät die Anmeldung.' };
    }
  }

  private ask(flow: FakeFlow, code?: Parameters<typeof kontorError>[0], message?: string, bankMessage?: string): FlowUpdate {
    const error = code ? { ...kontorError(code, message ?? ''), ...(bankMessage ? { bank_message: bankMessage } : {}) } : null;
    return { status: 'needs_input', flow_id: flow.id, request: this.request(flow), error };
  }

  private fail(flow: FakeFlow, code: Parameters<typeof kontorError>[0], message: string): FlowUpdate {
    this.flows.delete(flow.id);
    return { status: 'failed', flow_id: flow.id, error: kontorError(code, message) };
  }

  private finish(flow: FakeFlow): FlowUpdate {
    this.flows.delete(flow.id);
    if (flow.syncOf) {
      flow.syncOf.last_synced_at = new Date().toISOString();
      return { status: 'done', connection: structuredClone(flow.syncOf), added: 3, updated: 0, warnings: [] };
    }
    const n = flow.bank.id.slice(-1);
    const connection: ConnectionSummary = {
      id: nextId('con'),
      bank_name: flow.bank.name,
      status: 'active',
      consent_expires_at: null,
      last_synced_at: new Date().toISOString(),
      deadline_warnings: [],
      ...(flow.finx === 'one_time' ? { access_kind: 'finx_onetime' } : {}),
      ...(flow.finx === 'ongoing' ? { access_kind: 'finx_ongoing', access_expires_at: new Date(Date.now() + 90 * 86_400_000).toISOString() } : {}),
    };
    const account = (suffix: string, name: string, type: AccountSummary['account_type'], balance: string): AccountSummary => ({
      id: nextId('acc'),
      connection_id: connection.id,
      bank_name: flow.bank.name,
      name,
      iban: ibanWithCheckDigits('DE', `28000${n}00000000000${suffix}`),
      account_type: type,
      currency: 'EUR',
      balance_booked: balance,
      balance_booked_date: new Date().toISOString().slice(0, 10),
      balance_available: null,
    });
    this.sink.link(connection, [
      account('1', 'Girokonto', 'checking', '2431.57'),
      account('2', 'Haushaltskonto', 'checking', '412.80'),
      account('3', 'Tagesgeld', 'savings', '8250.00'),
    ]);
    return { status: 'done', connection, added: 165, updated: 0, warnings: [] };
  }
}
