//! The finX demo providers (banks) and their authentication methods.
//!
//! The provider chosen in the widget (or pre-selected by `provider_id` or an IBAN in `accounts`) decides which
//! challenges an API sync raises for the login `demo`; the login `demo_no_sca` never gets a challenge.
//!
//! | provider | IBAN bank code | sync challenges (login `demo`) |
//! |---|---|---|
//! | [`SELECTION_PROVIDER`] Demo Bank (TAN-Auswahl) | 28000500 | `METHOD_SELECTION` among 6 methods, then `EMBEDDED` `TEXT`/`HTML`/`HHD`/`PHOTO` or `DECOUPLED` |
//! | [`TEXT_PROVIDER`] Demo SMS-TAN Bank | 28000600 | `EMBEDDED` `TEXT` |
//! | [`REDIRECT_PROVIDER`] Demo Redirect Bank | 28000700 | `REDIRECT` (needs `redirect_uri` and the PSU IP) |
//! | [`DECOUPLED_PROVIDER`] Demo App-Freigabe Bank | 28000800 | `DECOUPLED` |

use crate::data::BankIdentity;

pub const SELECTION_PROVIDER: &str = "9d6a1c8e-5f0b-4e7a-9c1d-28000500a001";
pub const TEXT_PROVIDER: &str = "9d6a1c8e-5f0b-4e7a-9c1d-28000600a002";
pub const REDIRECT_PROVIDER: &str = "9d6a1c8e-5f0b-4e7a-9c1d-28000700a003";
pub const DECOUPLED_PROVIDER: &str = "9d6a1c8e-5f0b-4e7a-9c1d-28000800a004";

/// The login that always needs SCA (password = login), and the one that never does.
pub const LOGIN_WITH_SCA: &str = "demo";
pub const LOGIN_WITHOUT_SCA: &str = "demo_no_sca";
/// The TAN every embedded challenge (and the widget) accepts.
pub const DEMO_TAN: &str = "123456";

/// How a provider authenticates API syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderSca {
    /// `METHOD_SELECTION` first (unless the last method is re-used), then the method's challenge.
    Selection,
    /// One embedded SMS-TAN method: an `EMBEDDED` `TEXT` challenge at once.
    EmbeddedText,
    /// A `REDIRECT` challenge to the bank's page.
    Redirect,
    /// A `DECOUPLED` challenge (approval in the banking app).
    Decoupled,
}

/// The challenge an authentication method raises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeStyle {
    Text,
    Html,
    Hhd,
    Photo,
    Decoupled,
}

impl ChallengeStyle {
    /// The `format` of an `EMBEDDED` challenge (`None` for decoupled).
    pub fn format(self) -> Option<&'static str> {
        match self {
            Self::Text => Some("TEXT"),
            Self::Html => Some("HTML"),
            Self::Hhd => Some("HHD"),
            Self::Photo => Some("PHOTO"),
            Self::Decoupled => None,
        }
    }
}

/// One authentication method (TAN scheme + medium) of a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthMethod {
    pub id: &'static str,
    /// `SMS_OTP`, `PUSH_OTP`, `CHIP_OTP` or `PHOTO_OTP`.
    pub kind: &'static str,
    pub name: &'static str,
    pub medium_name: Option<&'static str>,
    pub style: ChallengeStyle,
}

const fn method(
    id: &'static str,
    kind: &'static str,
    name: &'static str,
    medium_name: Option<&'static str>,
    style: ChallengeStyle,
) -> AuthMethod {
    AuthMethod { id, kind, name, medium_name, style }
}

const SELECTION_METHODS: &[AuthMethod] = &[
    method("M28000501.1", "SMS_OTP", "smsTAN", Some("Mobil ****1234"), ChallengeStyle::Text),
    method("M28000501.2", "SMS_OTP", "smsTAN", Some("Mobil ****5678"), ChallengeStyle::Text),
    method("M28000502.1", "PUSH_OTP", "pushTAN", Some("Demo-App iPhone"), ChallengeStyle::Html),
    method("M28000503.1", "CHIP_OTP", "chipTAN optisch", Some("Karte ****4711"), ChallengeStyle::Hhd),
    method("M28000504.1", "PHOTO_OTP", "photoTAN", Some("photoTAN-Gerät"), ChallengeStyle::Photo),
    method("M28000505.1", "PUSH_OTP", "pushTAN 2.0 (App-Freigabe)", Some("Demo-App iPhone"), ChallengeStyle::Decoupled),
];
const TEXT_METHODS: &[AuthMethod] =
    &[method("M28000601.1", "SMS_OTP", "smsTAN", Some("Mobil ****1234"), ChallengeStyle::Text)];
const REDIRECT_METHODS: &[AuthMethod] = &[];
const DECOUPLED_METHODS: &[AuthMethod] =
    &[method("M28000801.1", "PUSH_OTP", "App-Freigabe", Some("Demo-App iPhone"), ChallengeStyle::Decoupled)];

/// One demo provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Provider {
    /// finX provider id (UUID), as `provider_id` in `/ongoing/access` and on accesses.
    pub id: &'static str,
    /// The number the data generator derives IBANs and bookings from.
    pub bank_id: u64,
    pub name: &'static str,
    /// The 8-digit bank code inside this provider's IBANs.
    pub bank_code: &'static str,
    pub bic: &'static str,
    pub sca: ProviderSca,
    /// Syncs must carry the end user's IP (`psu_ip_address` or the `PSU-IP-Address` header), else 400 / 1021.
    pub requires_psu_ip: bool,
    pub methods: &'static [AuthMethod],
}

impl Provider {
    /// What the data generator needs.
    pub fn identity(&self) -> BankIdentity {
        BankIdentity {
            bank_id: self.bank_id,
            iban_blz: self.bank_code.to_owned(),
            bic: self.bic.to_owned(),
            name: self.name.to_owned(),
        }
    }

    /// The method with `id`.
    pub fn method(&self, id: &str) -> Option<&'static AuthMethod> {
        self.methods.iter().find(|method| method.id == id)
    }
}

const PROVIDERS: &[Provider] = &[
    Provider {
        id: SELECTION_PROVIDER,
        bank_id: 28000500,
        name: "Demo Bank (TAN-Auswahl)",
        bank_code: "28000500",
        bic: "DEMODE05XXX",
        sca: ProviderSca::Selection,
        requires_psu_ip: false,
        methods: SELECTION_METHODS,
    },
    Provider {
        id: TEXT_PROVIDER,
        bank_id: 28000600,
        name: "Demo SMS-TAN Bank",
        bank_code: "28000600",
        bic: "DEMODE06XXX",
        sca: ProviderSca::EmbeddedText,
        requires_psu_ip: false,
        methods: TEXT_METHODS,
    },
    Provider {
        id: REDIRECT_PROVIDER,
        bank_id: 28000700,
        name: "Demo Redirect Bank",
        bank_code: "28000700",
        bic: "DEMODE07XXX",
        sca: ProviderSca::Redirect,
        requires_psu_ip: true,
        methods: REDIRECT_METHODS,
    },
    Provider {
        id: DECOUPLED_PROVIDER,
        bank_id: 28000800,
        name: "Demo App-Freigabe Bank",
        bank_code: "28000800",
        bic: "DEMODE08XXX",
        sca: ProviderSca::Decoupled,
        requires_psu_ip: false,
        methods: DECOUPLED_METHODS,
    },
];

/// All demo providers.
pub fn providers() -> &'static [Provider] {
    PROVIDERS
}

/// The provider with this id.
pub fn by_id(id: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().find(|provider| provider.id.eq_ignore_ascii_case(id))
}

/// The provider whose IBANs carry the bank code of `iban` (German IBANs: characters 5–12).
pub fn by_iban(iban: &str) -> Option<&'static Provider> {
    let compact: String = iban.chars().filter(|c| !c.is_whitespace()).collect();
    let code = compact.get(4..12)?;
    PROVIDERS.iter().find(|provider| provider.bank_code == code)
}
