//! kontor-core's finX client against the Demo Bank's finX face (`kontor_sandbox::DemoBank` on
//! 127.0.0.1:0, real HTTP): widget flows clicked like a browser, callback parsing, the code exchange,
//! refresh rotation (a spent refresh token is refused), data with pending rows and deletions, API
//! synchronisations through every challenge type, and the income report.

use std::time::Duration as StdDuration;

use kontor_core::ErrorCode;
use kontor_core::clock;
use kontor_core::domain::BookingStatus;
use kontor_core::provider::finx::{
    AccessToken, ChallengeAnswer, ChallengeKind, EmbeddedContent, FinxChallenge, FinxClient,
    FinxConfig as ClientConfig, IncomeReportRequest, OngoingAccessRequest, RetryPolicy, SinceType, SyncRequest,
    SyncStatus, Synchronization, TransactionQuery, parse_callback,
};
use kontor_core::secret::SecretString;
use kontor_sandbox::finx::{FinxConfig, SELECTION_PROVIDER, TEXT_PROVIDER};
use kontor_sandbox::{DemoBank, DemoBankConfig, RunningDemoBank};

type TestResult = Result<(), Box<dyn std::error::Error>>;
type AnyResult<T> = Result<T, Box<dyn std::error::Error>>;

const CALLBACK: &str = "http://127.0.0.1:9/callback";

struct Setup {
    _bank: RunningDemoBank,
    base: String,
    http: reqwest::Client,
    client: FinxClient,
}

async fn setup() -> AnyResult<Setup> {
    let bank = DemoBank::start(DemoBankConfig { finx: FinxConfig::for_tests(), ..DemoBankConfig::for_tests() }).await?;
    let base = bank.base_url();
    let mut config = ClientConfig::new(base.clone(), "kontor-demo", SecretString::new("kontor-demo-secret".to_owned()));
    config.retry =
        RetryPolicy { max_attempts: 2, base_delay: StdDuration::from_millis(5), max_wait: StdDuration::from_secs(1) };
    let client = FinxClient::new(config, clock::system())?;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    Ok(Setup { _bank: bank, base, http, client })
}

fn ibans(provider: &str, login: &str) -> Vec<String> {
    let identity = kontor_sandbox::finx::providers::by_id(provider).map(|p| p.identity());
    identity.map(|identity| kontor_sandbox::data::generate_login_ibans(1, &identity, login)).unwrap_or_default()
}

impl Setup {
    async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> AnyResult<String> {
        let response = self.http.post(format!("{}{path}", self.base)).form(fields).send().await?;
        if response.status() != 303 {
            return Err(format!("POST {path}: {}", response.status()).into());
        }
        Ok(response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned())
    }

    /// Clicks through the widget (login, TAN, consent) and returns the callback URL.
    async fn widget(&self, location: &str, login: &str, accounts: &[String]) -> AnyResult<String> {
        let token = location.split("token=").nth(1).unwrap_or_default().split('&').next().unwrap_or_default();
        let page = self.http.get(location).send().await?.text().await?;
        if !page.contains("login_id") {
            return Err(format!("no login form: {page}").into());
        }
        self.submit("/finx/widget/login", &[("token", token), ("login_id", login), ("password", login)]).await?;
        if login == "demo" {
            self.submit("/finx/widget/tan", &[("token", token), ("tan", "123456")]).await?;
        }
        let mut fields = vec![("token", token)];
        fields.extend(accounts.iter().map(|iban| ("account", iban.as_str())));
        self.submit("/finx/widget/consent", &fields).await
    }

    /// An ongoing access at `provider`: `(tokens, access id)`.
    async fn ongoing(&self, provider: &str, state: &str) -> AnyResult<(kontor_core::provider::finx::TokenSet, String)> {
        let mut request = OngoingAccessRequest::new("u-1@kontor", CALLBACK, state);
        request.provider_id = Some(provider.to_owned());
        request.language = Some("en".to_owned());
        let link = self.client.create_ongoing_access(&request).await?;
        let callback = self.widget(&link.location, "demo", &ibans(provider, "demo")).await?;
        let parsed = parse_callback(&callback, state)?;
        assert_eq!(parsed.flow_id, link.id);
        let tokens = self.client.exchange_code(&parsed.code, CALLBACK).await?;
        let accesses = self.client.accesses(&tokens.access).await?;
        let access = accesses
            .into_iter()
            .find(|a| a.provider_id.as_deref() == Some(provider))
            .ok_or("no access for the provider")?;
        Ok((tokens, access.id))
    }

    /// Polls until the sync waits for the user or ends.
    async fn poll(&self, token: &AccessToken, access_id: &str, sync_id: &str) -> AnyResult<Synchronization> {
        for _ in 0..20 {
            let sync = self.client.get_sync(token, access_id, sync_id).await?;
            if sync.status == SyncStatus::AwaitAuth || sync.status.is_terminal() {
                return Ok(sync);
            }
        }
        Err("the sync never settled".into())
    }
}

fn challenge_of(sync: &Synchronization) -> AnyResult<FinxChallenge> {
    sync.challenge.clone().ok_or_else(|| format!("no challenge in {sync:?}").into())
}

#[tokio::test]
async fn ongoing_link_tokens_rotation_and_data() -> TestResult {
    let s = setup().await?;
    let (tokens, access_id) = s.ongoing(TEXT_PROVIDER, "st-1").await?;
    let refresh = tokens.refresh_token.clone().ok_or("no refresh token")?;
    assert!(refresh.expose().len() > 2048, "long refresh tokens are kept whole");
    assert!(tokens.is_offline());

    let access = s.client.access(&tokens.access, &access_id).await?;
    assert!(access.consent_expires_at().is_some());
    let accounts = s.client.accounts(&tokens.access).await?;
    assert!(!accounts.is_empty());
    assert!(accounts.iter().all(|a| a.access_id.as_deref() == Some(access_id.as_str())));
    let first = &accounts[0].account.provider_account_id;
    let balance = s.client.balance(&tokens.access, first).await?;
    assert_eq!(balance.balance, accounts[0].account.balance);

    let query = TransactionQuery { count: 25, ..TransactionQuery::default() };
    let all = s.client.all_transactions(&tokens.access, &query).await?;
    assert!(all.transactions.len() > 25, "paged: {}", all.transactions.len());
    assert!(all.transactions.iter().any(|t| t.status == BookingStatus::Pending));
    assert!(all.transactions.iter().all(|t| t.amount.scale() <= 2));

    // Rotation: the new refresh token works, the spent one is refused.
    let rotated = s.client.refresh(&refresh).await?;
    let newer = rotated.refresh_token.clone().ok_or("no rotated refresh token")?;
    assert_ne!(newer.expose(), refresh.expose());
    let spent = s.client.refresh(&refresh).await.err().map(|e| e.code);
    assert_eq!(spent, Some(ErrorCode::ConsentExpired));
    let mut stored = None;
    let third = s
        .client
        .refresh_and_persist(&newer, |t| {
            stored = t.refresh_token.clone();
            Ok(())
        })
        .await?;
    assert_eq!(stored.as_ref().map(|t| t.expose().clone()), third.refresh_token.as_ref().map(|t| t.expose().clone()));
    assert!(!s.client.accounts(&third.access).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn sync_with_an_embedded_text_tan_and_deletions() -> TestResult {
    let s = setup().await?;
    let (tokens, access_id) = s.ongoing(TEXT_PROVIDER, "st-2").await?;
    let token = &tokens.access;
    let before = s.client.all_transactions(token, &TransactionQuery::default()).await?;

    let credentials = || {
        vec![
            ("login_id".to_owned(), SecretString::new("demo".to_owned())),
            ("password".to_owned(), SecretString::new("demo".to_owned())),
        ]
    };
    // A wrong TAN fails the sync with TanRejected.
    let request = SyncRequest { credentials: credentials(), ..SyncRequest::default() };
    let sync = s.client.start_sync(token, &access_id, &request).await?;
    assert_eq!(sync.status, SyncStatus::Queued);
    let waiting = s.poll(token, &access_id, &sync.id).await?;
    let challenge = challenge_of(&waiting)?;
    let ChallengeKind::Embedded(embedded) = &challenge.kind else { return Err(format!("{challenge:?}").into()) };
    assert!(matches!(embedded.content, EmbeddedContent::Text { .. }), "{embedded:?}");
    s.client
        .answer_challenge(
            token,
            &access_id,
            &sync.id,
            &challenge.id,
            &ChallengeAnswer::Tan(SecretString::new("000000".into())),
        )
        .await?;
    let failed = s.poll(token, &access_id, &sync.id).await?;
    assert_eq!(failed.status, SyncStatus::Failed);
    assert_eq!(failed.error.map(|e| e.code), Some(ErrorCode::TanRejected));

    // The right TAN completes it, and the update shows up with a deletion.
    let sync = s.client.start_sync(token, &access_id, &request).await?;
    let waiting = s.poll(token, &access_id, &sync.id).await?;
    let challenge = challenge_of(&waiting)?;
    s.client
        .answer_challenge(
            token,
            &access_id,
            &sync.id,
            &challenge.id,
            &ChallengeAnswer::Tan(SecretString::new("123456".into())),
        )
        .await?;
    let done = s.poll(token, &access_id, &sync.id).await?;
    assert_eq!(done.status, SyncStatus::Completed, "{done:?}");
    let after = s
        .client
        .all_transactions(token, &TransactionQuery { since_type: SinceType::Booked, ..TransactionQuery::default() })
        .await?;
    assert!(!after.deleted.is_empty(), "the pending row that got booked is reported deleted");
    assert!(after.transactions.len() > before.transactions.len() - after.deleted.len());

    // Without credentials and without saved secrets: CredentialsRequired.
    let bare = s.client.start_sync(token, &access_id, &SyncRequest::default()).await.err().map(|e| e.code);
    assert_eq!(bare, Some(ErrorCode::CredentialsRequired));
    Ok(())
}

#[tokio::test]
async fn method_selection_then_flicker_photo_and_html() -> TestResult {
    let s = setup().await?;
    let (tokens, access_id) = s.ongoing(SELECTION_PROVIDER, "st-3").await?;
    let token = &tokens.access;
    for method in ["M28000503.1", "M28000504.1", "M28000502.1"] {
        let request = SyncRequest {
            credentials: vec![
                ("login_id".to_owned(), SecretString::new("demo".to_owned())),
                ("password".to_owned(), SecretString::new("demo".to_owned())),
            ],
            reuse_last_auth_method: Some(false),
            ..SyncRequest::default()
        };
        let sync = s.client.start_sync(token, &access_id, &request).await?;
        let choose = challenge_of(&s.poll(token, &access_id, &sync.id).await?)?;
        let ChallengeKind::MethodSelection { methods } = &choose.kind else { return Err(format!("{choose:?}").into()) };
        assert!(methods.iter().any(|m| m.id == method), "{methods:?}");
        s.client
            .answer_challenge(token, &access_id, &sync.id, &choose.id, &ChallengeAnswer::Method(method.into()))
            .await?;
        let tan = challenge_of(&s.poll(token, &access_id, &sync.id).await?)?;
        let ChallengeKind::Embedded(embedded) = &tan.kind else { return Err(format!("{tan:?}").into()) };
        match (method, &embedded.content) {
            ("M28000503.1", EmbeddedContent::Flicker { code, .. }) => assert!(!code.render_hex.is_empty()),
            ("M28000504.1", EmbeddedContent::Photo { image }) => assert_eq!(image.mime_type, "image/png"),
            ("M28000502.1", EmbeddedContent::Html { paragraphs }) => {
                assert!(!paragraphs.is_empty() && paragraphs.iter().all(|p| !p.contains('<')), "{paragraphs:?}");
            }
            other => return Err(format!("unexpected challenge for {method}: {other:?}").into()),
        }
        s.client
            .answer_challenge(
                token,
                &access_id,
                &sync.id,
                &tan.id,
                &ChallengeAnswer::Tan(SecretString::new("123456".into())),
            )
            .await?;
        let done = s.poll(token, &access_id, &sync.id).await?;
        assert_eq!(done.status, SyncStatus::Completed, "{method}: {done:?}");
    }
    Ok(())
}

#[tokio::test]
async fn cancelled_and_forged_callbacks_and_the_income_report() -> TestResult {
    let s = setup().await?;
    let mut request = IncomeReportRequest::new(CALLBACK, "st-4");
    request.accounts = ibans(TEXT_PROVIDER, "demo").into_iter().take(1).collect();
    let link = s.client.create_income_report(&request).await?;
    let token = link.location.split("token=").nth(1).unwrap_or_default().to_owned();
    let cancelled = s.submit("/finx/widget/cancel", &[("token", &token)]).await?;
    assert_eq!(parse_callback(&cancelled, "st-4").err().map(|e| e.code), Some(ErrorCode::ScaCancelled));
    assert_eq!(parse_callback(&cancelled, "other").err().map(|e| e.code), Some(ErrorCode::ScaStateMismatch));

    let link = s.client.create_income_report(&request).await?;
    let callback = s.widget(&link.location, "demo", &request.accounts).await?;
    let parsed = parse_callback(&callback, "st-4")?;
    let tokens = s.client.exchange_code(&parsed.code, CALLBACK).await?;
    assert!(tokens.refresh_token.is_none(), "one-time flows get no refresh token");
    let report_id = parsed.flow_id.ok_or("no flow id")?;
    let report = s.client.income_report(&tokens.access, &report_id).await?;
    assert_eq!(report.id.as_deref(), Some(report_id.as_str()));
    assert!(report.income.summary.as_ref().and_then(|s| s.total).is_some(), "{report:?}");
    assert!(serde_json::to_string(&report)?.contains("disposable_income"));
    // A code is single use (and its replay revokes the tokens it gave: the Demo Bank's rule).
    let again = s.client.exchange_code(&parsed.code, CALLBACK).await.err().map(|e| e.code);
    assert_eq!(again, Some(ErrorCode::AuthorizationExpired));
    let revoked = s.client.income_report(&tokens.access, &report_id).await.err().map(|e| e.code);
    assert_eq!(revoked, Some(ErrorCode::ProviderAuthFailed));
    Ok(())
}
