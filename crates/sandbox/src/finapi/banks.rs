//! The Demo Bank's bank directory: finAPI's sandbox test banks plus real-looking German banks for search.
//!
//! Only the test banks (ids 280001–280004, `isTestBank: true`) can be connected; the others exist so that
//! bank search, filters and paging have something to chew on, and answer an import with 501
//! `UNSUPPORTED_BANK`.
//!
//! | id | BLZ | interfaces | SCA |
//! |---|---|---|---|
//! | 280001 | DEMO0001 | XS2A, FINTS_SERVER (`DECOUPLED_APPROACH`) | choose among 5 procedures (embedded + decoupled) |
//! | 280002 | DEMO0002 | XS2A (`REDIRECT_APPROACH`) | redirect to the Demo Bank's page |
//! | 280003 | DEMO0003 | XS2A (`DETAILED_CONSENT`) | one procedure (smsTAN), no selection step |
//! | 280004 | DEMO0004 | XS2A (`DECOUPLED_APPROACH`) | one decoupled procedure, no selection step |

use crate::data::{self, BankIdentity};

/// finAPI's banking interfaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BankingInterface {
    WebScraper,
    FintsServer,
    Xs2a,
}

impl BankingInterface {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WebScraper => "WEB_SCRAPER",
            Self::FintsServer => "FINTS_SERVER",
            Self::Xs2a => "XS2A",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "WEB_SCRAPER" => Some(Self::WebScraper),
            "FINTS_SERVER" => Some(Self::FintsServer),
            "XS2A" => Some(Self::Xs2a),
            _ => None,
        }
    }
}

/// `BankInterface.properties` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterfaceProperty {
    RedirectApproach,
    DecoupledApproach,
    DetailedConsent,
}

impl InterfaceProperty {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RedirectApproach => "REDIRECT_APPROACH",
            Self::DecoupledApproach => "DECOUPLED_APPROACH",
            Self::DetailedConsent => "DETAILED_CONSENT",
        }
    }
}

/// One login field; its `label` is the key the client sends back in `loginCredentials`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginField {
    pub label: &'static str,
    pub is_secret: bool,
    pub is_volatile: bool,
    pub is_mandatory: bool,
}

/// How the challenge of a procedure reaches the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcedureKind {
    /// A TAN sent by SMS or shown in an app; the 510 carries only text.
    Text,
    /// chipTAN optical: `opticalData` holds a rendered flicker code.
    Flicker,
    /// chipTAN QR / photoTAN: `photoTanData` holds a base64 PNG.
    Photo,
    /// Approval in the banking app; no TAN (`DECOUPLED_AUTH_REQUIRED`).
    Decoupled,
}

impl ProcedureKind {
    /// finAPI's `procedureChallengeType` (its guess; decoupled procedures report `TEXT`).
    pub fn challenge_type(self) -> &'static str {
        match self {
            Self::Text | Self::Decoupled => "TEXT",
            Self::Flicker => "FLICKER_CODE",
            Self::Photo => "PHOTO",
        }
    }
}

/// A two-step (SCA) procedure a bank offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Procedure {
    pub id: &'static str,
    pub name: &'static str,
    pub kind: ProcedureKind,
}

/// Every procedure the test banks offer.
pub const ALL_PROCEDURES: [Procedure; 6] =
    [SMS_TAN, PUSH_TAN, CHIP_TAN_OPTICAL, CHIP_TAN_QR, DEMO_DECOUPLED, PUSH_TAN_APP];

impl Procedure {
    /// The procedure with this `procedureId`.
    pub fn by_id(id: &str) -> Option<Self> {
        ALL_PROCEDURES.iter().find(|p| p.id == id).cloned()
    }
}

/// Persisted as its `procedureId` (the state file of [`crate::DemoBankConfig::state_file`]).
impl serde::Serialize for Procedure {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id)
    }
}

impl<'de> serde::Deserialize<'de> for Procedure {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = String::deserialize(deserializer)?;
        Self::by_id(&id).ok_or_else(|| serde::de::Error::custom(format!("unknown procedure '{id}'")))
    }
}

pub const SMS_TAN: Procedure = Procedure { id: "DEMO-TSP-01", name: "smsTan", kind: ProcedureKind::Text };
pub const PUSH_TAN: Procedure = Procedure { id: "DEMO-TSP-02", name: "pushTan", kind: ProcedureKind::Text };
pub const CHIP_TAN_OPTICAL: Procedure =
    Procedure { id: "DEMO-TSP-03", name: "chipTan optical", kind: ProcedureKind::Flicker };
pub const CHIP_TAN_QR: Procedure = Procedure { id: "DEMO-TSP-04", name: "chipTan QR", kind: ProcedureKind::Photo };
pub const DEMO_DECOUPLED: Procedure =
    Procedure { id: "DEMO-TSP-05", name: "Demo Decoupled Auth", kind: ProcedureKind::Decoupled };
pub const PUSH_TAN_APP: Procedure =
    Procedure { id: "DEMO-TSP-06", name: "pushTAN 2.0 (App-Freigabe)", kind: ProcedureKind::Decoupled };

/// How a test bank authenticates its customers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScaScheme {
    /// Credentials through the client, then a procedure: selection first if there is more than one.
    Embedded { procedures: Vec<Procedure> },
    /// The user authenticates on the bank's own web page.
    Redirect,
}

/// One interface of a bank.
#[derive(Debug, Clone)]
pub struct InterfaceSpec {
    pub interface: BankingInterface,
    pub login_fields: Vec<LoginField>,
    pub properties: Vec<InterfaceProperty>,
    pub login_hint: String,
    pub tpp_authentication_group: Option<(u64, &'static str)>,
}

impl InterfaceSpec {
    pub fn has(&self, property: InterfaceProperty) -> bool {
        self.properties.contains(&property)
    }
}

/// One bank of the directory.
#[derive(Debug, Clone)]
pub struct Bank {
    pub id: u64,
    pub name: String,
    pub blz: String,
    pub bic: Option<String>,
    pub city: Option<String>,
    pub location: Option<String>,
    pub is_test_bank: bool,
    pub popularity: u32,
    pub interfaces: Vec<InterfaceSpec>,
    /// `Some` for the connectable test banks.
    pub sca: Option<ScaScheme>,
    /// The 8-digit bank code inside this bank's IBANs.
    pub iban_blz: String,
}

impl Bank {
    pub fn interface(&self, interface: BankingInterface) -> Option<&InterfaceSpec> {
        self.interfaces.iter().find(|spec| spec.interface == interface)
    }

    /// What the data generator needs to know about the bank.
    pub fn identity(&self) -> BankIdentity {
        BankIdentity {
            bank_id: self.id,
            iban_blz: self.iban_blz.clone(),
            bic: self.bic.clone().unwrap_or_default(),
            name: self.name.clone(),
        }
    }

    /// The v1 `bank` text of error envelopes: `DEMO0001 - finAPI Test Bank`.
    pub fn label_v1(&self) -> String {
        format!("{} - {}", self.blz, self.name)
    }

    /// The v2 `bank` text: `DEMO0002 - finAPI Test Redirect Bank (id: 280002, location: none)`.
    pub fn label_v2(&self) -> String {
        format!(
            "{} - {} (id: {}, location: {})",
            self.blz,
            self.name,
            self.id,
            self.location.as_deref().unwrap_or("none")
        )
    }
}

/// The whole directory, ordered by id.
#[derive(Debug, Clone)]
pub struct BankCatalog {
    pub banks: Vec<Bank>,
}

impl BankCatalog {
    pub fn get(&self, id: u64) -> Option<&Bank> {
        self.banks.iter().find(|bank| bank.id == id)
    }
}

pub const TEST_BANK: u64 = 280001;
pub const REDIRECT_BANK: u64 = 280002;
pub const CONSENT_BANK: u64 = 280003;
pub const DECOUPLED_BANK: u64 = 280004;

/// The login that needs SCA, and the one that skips it (`Onlinebanking-ID` = `PIN` for both).
pub const LOGIN_WITH_SCA: &str = "demo";
pub const LOGIN_WITHOUT_SCA: &str = "demo_no_msa";
/// The TAN every embedded procedure accepts.
pub const DEMO_TAN: &str = "123456";

fn id_field() -> LoginField {
    LoginField { label: "Onlinebanking-ID", is_secret: false, is_volatile: false, is_mandatory: true }
}

fn pin_field(is_volatile: bool, is_mandatory: bool) -> LoginField {
    LoginField { label: "PIN", is_secret: true, is_volatile, is_mandatory }
}

const DEMO_HINT: &str = "Demo-Zugang: Onlinebanking-ID <b>demo</b> und PIN <b>demo</b> (mit TAN-Abfrage, TAN <b>123456</b>) \
     oder <b>demo_no_msa</b> / <b>demo_no_msa</b> (ohne TAN-Abfrage).";

/// Builds the directory. The consent bank's login hint lists the IBANs of its demo logins (they depend on
/// the seed only, not on the date).
pub fn catalog(seed: u64) -> BankCatalog {
    let location = Some("DE".to_owned());
    let mut banks = vec![
        Bank {
            id: TEST_BANK,
            name: "finAPI Test Bank".to_owned(),
            blz: "DEMO0001".to_owned(),
            bic: Some("DEMODE01XXX".to_owned()),
            city: Some("München".to_owned()),
            location: None,
            is_test_bank: true,
            popularity: 100,
            interfaces: [BankingInterface::Xs2a, BankingInterface::FintsServer]
                .into_iter()
                .map(|interface| InterfaceSpec {
                    interface,
                    login_fields: vec![id_field(), pin_field(interface == BankingInterface::Xs2a, true)],
                    properties: vec![InterfaceProperty::DecoupledApproach],
                    login_hint: DEMO_HINT.to_owned(),
                    tpp_authentication_group: (interface == BankingInterface::Xs2a)
                        .then_some((1, "finAPI Test Bank XS2A")),
                })
                .collect(),
            sca: Some(ScaScheme::Embedded {
                procedures: vec![SMS_TAN, PUSH_TAN, CHIP_TAN_OPTICAL, CHIP_TAN_QR, DEMO_DECOUPLED],
            }),
            iban_blz: "28000100".to_owned(),
        },
        Bank {
            id: REDIRECT_BANK,
            name: "finAPI Test Redirect Bank".to_owned(),
            blz: "DEMO0002".to_owned(),
            bic: Some("DEMODE02XXX".to_owned()),
            city: Some("München".to_owned()),
            location: None,
            is_test_bank: true,
            popularity: 90,
            interfaces: vec![InterfaceSpec {
                interface: BankingInterface::Xs2a,
                login_fields: vec![id_field(), pin_field(true, false)],
                properties: vec![InterfaceProperty::RedirectApproach],
                login_hint: "Demo-Zugang: Onlinebanking-ID <b>demo</b> (PIN optional, <b>demo</b>); die Freigabe \
                             erfolgt auf der Webseite der Bank. <b>demo_no_msa</b> überspringt die Weiterleitung."
                    .to_owned(),
                tpp_authentication_group: Some((2, "finAPI Test Redirect Bank XS2A")),
            }],
            sca: Some(ScaScheme::Redirect),
            iban_blz: "28000200".to_owned(),
        },
        Bank {
            id: CONSENT_BANK,
            name: "finAPI Test Consent Bank".to_owned(),
            blz: "DEMO0003".to_owned(),
            bic: Some("DEMODE03XXX".to_owned()),
            city: Some("Frankfurt am Main".to_owned()),
            location: None,
            is_test_bank: true,
            popularity: 80,
            interfaces: Vec::new(),
            sca: Some(ScaScheme::Embedded { procedures: vec![SMS_TAN] }),
            iban_blz: "28000300".to_owned(),
        },
        Bank {
            id: DECOUPLED_BANK,
            name: "finAPI Test Decoupled Bank".to_owned(),
            blz: "DEMO0004".to_owned(),
            bic: Some("DEMODE04XXX".to_owned()),
            city: Some("Berlin".to_owned()),
            location: None,
            is_test_bank: true,
            popularity: 70,
            interfaces: vec![InterfaceSpec {
                interface: BankingInterface::Xs2a,
                login_fields: vec![id_field(), pin_field(true, true)],
                properties: vec![InterfaceProperty::DecoupledApproach],
                login_hint: "Demo-Zugang: <b>demo</b> / <b>demo</b>; die Anmeldung wird in der Banking-App \
                             freigegeben (keine TAN). <b>demo_no_msa</b> / <b>demo_no_msa</b> ohne Freigabe."
                    .to_owned(),
                tpp_authentication_group: Some((4, "finAPI Test Decoupled Bank XS2A")),
            }],
            sca: Some(ScaScheme::Embedded { procedures: vec![PUSH_TAN_APP] }),
            iban_blz: "28000400".to_owned(),
        },
    ];
    // The consent bank's hint names the IBANs a user may pick; they depend on the seed only.
    if let Some(consent) = banks.iter_mut().find(|bank| bank.id == CONSENT_BANK) {
        let identity = consent.identity();
        let ibans_of = |login: &str| data::generate_login_ibans(seed, &identity, login).join(", ");
        consent.interfaces = vec![InterfaceSpec {
            interface: BankingInterface::Xs2a,
            login_fields: vec![id_field(), pin_field(true, true)],
            properties: vec![InterfaceProperty::DetailedConsent],
            login_hint: format!(
                "{DEMO_HINT} Geben Sie die IBANs der Konten an, die Sie freigeben möchten. Konten von <b>demo</b>: \
                 {}; von <b>demo_no_msa</b>: {}.",
                ibans_of(LOGIN_WITH_SCA),
                ibans_of(LOGIN_WITHOUT_SCA)
            ),
            tpp_authentication_group: Some((3, "finAPI Test Consent Bank XS2A")),
        }];
    }
    banks.extend(REAL_BANKS.iter().enumerate().map(|(index, (name, blz, bic, city))| {
        let id = 10_001 + u64::try_from(index).unwrap_or(0);
        Bank {
            id,
            name: (*name).to_owned(),
            blz: (*blz).to_owned(),
            bic: Some((*bic).to_owned()),
            city: Some((*city).to_owned()),
            location: location.clone(),
            is_test_bank: false,
            popularity: 60u32.saturating_sub(u32::try_from(index).unwrap_or(0) * 2),
            interfaces: [BankingInterface::FintsServer, BankingInterface::Xs2a]
                .into_iter()
                .map(|interface| InterfaceSpec {
                    interface,
                    login_fields: vec![
                        LoginField { label: "Anmeldename", is_secret: false, is_volatile: false, is_mandatory: true },
                        pin_field(interface == BankingInterface::Xs2a, true),
                    ],
                    properties: if interface == BankingInterface::Xs2a {
                        vec![InterfaceProperty::RedirectApproach]
                    } else {
                        Vec::new()
                    },
                    login_hint: String::new(),
                    tpp_authentication_group: None,
                })
                .collect(),
            sca: None,
            iban_blz: (*blz).to_owned(),
        }
    }));
    banks.sort_by_key(|bank| bank.id);
    BankCatalog { banks }
}

const REAL_BANKS: &[(&str, &str, &str, &str)] = &[
    ("Berliner Sparkasse", "10050000", "BELADEBEXXX", "Berlin"),
    ("Deutsche Bank", "10070000", "DEUTDEBBXXX", "Berlin"),
    ("Commerzbank", "10040000", "COBADEBBXXX", "Berlin"),
    ("Postbank", "10010010", "PBNKDEFFXXX", "Berlin"),
    ("ING-DiBa", "50010517", "INGDDEFFXXX", "Frankfurt am Main"),
    ("Deutsche Kreditbank (DKB)", "12030000", "BYLADEM1001", "Berlin"),
    ("Hamburger Sparkasse", "20050550", "HASPDEHHXXX", "Hamburg"),
    ("UniCredit Bank - HypoVereinsbank", "70020270", "HYVEDEMMXXX", "München"),
    ("Stadtsparkasse München", "70150000", "SSKMDEMMXXX", "München"),
    ("Sparkasse KölnBonn", "37050198", "COLSDE33XXX", "Köln"),
    ("Frankfurter Sparkasse", "50050201", "HELADEF1822", "Frankfurt am Main"),
    ("1822direkt", "50050201", "HELADEF1822", "Frankfurt am Main"),
    ("comdirect", "20041133", "COBADEHD001", "Quickborn"),
    ("N26 Bank", "10011001", "NTSBDEB1XXX", "Berlin"),
    ("Berliner Volksbank", "10090000", "BEVODEBBXXX", "Berlin"),
    ("GLS Gemeinschaftsbank", "43060967", "GENODEM1GLS", "Bochum"),
    ("Sparda-Bank Berlin", "12096597", "GENODEF1S10", "Berlin"),
    ("TARGOBANK", "30020900", "CMCIDEDDXXX", "Düsseldorf"),
    ("Santander Consumer Bank", "31010833", "SCFBDE33XXX", "Mönchengladbach"),
    ("Consorsbank", "76030080", "CSDBDE71XXX", "Nürnberg"),
    ("Stadtsparkasse Düsseldorf", "30050110", "DUSSDEDDXXX", "Düsseldorf"),
    ("Sparkasse Hannover", "25050180", "SPKHDE2HXXX", "Hannover"),
    ("Sparkasse Leipzig", "86055592", "WELADE8LXXX", "Leipzig"),
    ("Ostsächsische Sparkasse Dresden", "85050300", "OSDDDE81XXX", "Dresden"),
    ("Kreissparkasse Köln", "37050299", "COKSDE33XXX", "Köln"),
    ("Mainzer Volksbank", "55190000", "MVBMDE55XXX", "Mainz"),
    ("BBBank", "66090800", "GENODE61BBB", "Karlsruhe"),
    ("Landesbank Baden-Württemberg", "60050101", "SOLADEST600", "Stuttgart"),
];
