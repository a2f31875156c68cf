//! Why a TAN challenge could not be read: [`TanError`] and the per-reading details it carries.

use std::fmt;

use super::HhdVersion;

/// A field of a raw challenge or rendered flicker code, named in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Lc,
    Ls,
    /// The n-th control byte, counted from 1.
    ControlByte(usize),
    StartCode,
    /// The length field of DE n, counted from 1.
    Lde(usize),
    /// Data element n, counted from 1.
    De(usize),
    Checksum,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Lc => f.write_str("LC"),
            Self::Ls => f.write_str("LS"),
            Self::ControlByte(n) => write!(f, "control byte {n}"),
            Self::StartCode => f.write_str("start code"),
            Self::Lde(n) => write!(f, "LDE{n}"),
            Self::De(n) => write!(f, "DE{n}"),
            Self::Checksum => f.write_str("checksum byte"),
        }
    }
}

/// One way of reading the digit widths of a raw challenge (§2.5 step 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reading {
    /// 3-digit LC, 2-digit LDEs (HHD 1.4).
    Lc3Lde2,
    /// 3-digit LC, 3-digit LDEs (Sparda).
    Lc3Lde3,
    /// 2-digit LC, 2-digit LDEs (HHD 1.3).
    Lc2Lde2,
}

impl Reading {
    pub fn lc_digits(self) -> usize {
        match self {
            Self::Lc3Lde2 | Self::Lc3Lde3 => 3,
            Self::Lc2Lde2 => 2,
        }
    }

    pub fn lde_digits(self) -> usize {
        match self {
            Self::Lc3Lde2 | Self::Lc2Lde2 => 2,
            Self::Lc3Lde3 => 3,
        }
    }
}

impl fmt::Display for Reading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-digit LC with {}-digit LDEs", self.lc_digits(), self.lde_digits())
    }
}

/// Why one reading of a raw challenge does not fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChallengeFault {
    FieldPastEnd {
        field: Field,
        needed: usize,
        available: usize,
    },
    NotDecimal {
        field: Field,
    },
    NotHex {
        field: Field,
    },
    LcExceedsRest {
        lc: usize,
        rest: usize,
    },
    /// A raw LDE above 127 uses bits that have no meaning.
    LengthOutOfRange {
        field: Field,
        value: usize,
    },
    TooManyControlBytes {
        max: usize,
    },
    LeftoverCharacters {
        count: usize,
    },
}

impl fmt::Display for ChallengeFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FieldPastEnd { field, needed, available } => {
                write!(f, "{field} needs {needed} characters but only {available} are left")
            }
            Self::NotDecimal { field } => write!(f, "{field} is not decimal digits"),
            Self::NotHex { field } => write!(f, "{field} is not a hex byte"),
            Self::LcExceedsRest { lc, rest } => {
                write!(f, "LC {lc} is larger than the {rest} characters that follow")
            }
            Self::LengthOutOfRange { field, value } => write!(f, "{field} {value} is out of range (at most 127)"),
            Self::TooManyControlBytes { max } => write!(f, "more than {max} control bytes"),
            Self::LeftoverCharacters { count } => write!(f, "{count} characters are left over after the last field"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadingFailure {
    pub reading: Reading,
    pub fault: ChallengeFault,
}

/// Why a string is not a valid rendered flicker code (§3 read in reverse).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderedFault {
    Empty,
    NotHex {
        position: usize,
    },
    OddLength {
        length: usize,
    },
    TooShort {
        bytes: usize,
    },
    LcMismatch {
        declared: usize,
        actual: usize,
    },
    FieldPastEnd {
        field: Field,
        needed: usize,
        available: usize,
    },
    /// A length byte with flag bits that this HHD version does not define.
    InvalidLength {
        field: Field,
        byte: u8,
    },
    TooManyControlBytes {
        max: usize,
    },
    InvalidBcd {
        field: Field,
    },
    TooManyDataElements,
    LuhnMismatch {
        expected: char,
        found: char,
    },
    XorMismatch {
        expected: char,
        found: char,
    },
}

impl fmt::Display for RenderedFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("it is empty"),
            Self::NotHex { position } => write!(f, "character {} is not a hex digit", position + 1),
            Self::OddLength { length } => write!(f, "its length {length} is odd"),
            Self::TooShort { bytes } => write!(f, "{bytes} bytes are too few"),
            Self::LcMismatch { declared, actual } => {
                write!(f, "LC says {declared} bytes follow but {actual} do")
            }
            Self::FieldPastEnd { field, needed, available } => {
                write!(f, "{field} needs {needed} bytes but only {available} are left")
            }
            Self::InvalidLength { field, byte } => write!(f, "{field} {byte:02X} has undefined flag bits"),
            Self::TooManyControlBytes { max } => write!(f, "more than {max} control bytes"),
            Self::InvalidBcd { field } => write!(f, "{field} is not valid BCD"),
            Self::TooManyDataElements => f.write_str("more than three data elements"),
            Self::LuhnMismatch { expected, found } => write!(f, "Luhn digit is {found}, expected {expected}"),
            Self::XorMismatch { expected, found } => write!(f, "XOR nibble is {found}, expected {expected}"),
        }
    }
}

/// Everything that can be wrong with a TAN challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TanError {
    Empty,
    UnknownHhdVersion {
        text: String,
    },
    /// No reading of the raw challenge fits; one failure per reading tried.
    NotAChallenge {
        failures: Vec<ReadingFailure>,
    },
    /// The input is an already rendered flicker code, not the bank's raw challenge.
    AlreadyRendered,
    MalformedChlguc {
        reason: &'static str,
    },
    NotRendered(RenderedFault),
    /// Data of unknown shape (finAPI's `opticalData`) fits no interpretation.
    NotFlickerData {
        as_rendered: RenderedFault,
        as_challenge: Box<TanError>,
    },
    UnencodableCharacter {
        field: Field,
        character: char,
    },
    /// An element marked BCD holds something other than digits.
    NotDigits {
        field: Field,
    },
    ElementTooLong {
        field: Field,
        bytes: usize,
        max: usize,
        version: HhdVersion,
    },
    TooManyControlBytes {
        count: usize,
        max: usize,
    },
    /// A control byte other than the last lacks bit 7, or the last one has it.
    BrokenControlByteChain,
    TooManyDataElements {
        count: usize,
    },
    /// The rendered code would exceed the 255 bytes its one-byte LC can count.
    CodeTooLong {
        bytes: usize,
    },
    InvalidBase64,
    MatrixTooShort {
        needed: usize,
        available: usize,
    },
    InvalidMimeType {
        mime_type: String,
    },
    UnsupportedMimeType {
        mime_type: String,
    },
    EmptyImage,
    ImageDoesNotMatchMimeType {
        mime_type: String,
    },
    UnknownImageFormat,
    InvalidDataUri {
        reason: &'static str,
    },
    /// The chipTAN-QR image could not be drawn (payload too large for a QR code, or PNG encoding failed).
    QrImage {
        reason: String,
    },
}

impl fmt::Display for TanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the TAN challenge is empty"),
            Self::UnknownHhdVersion { text } => write!(f, "\"{text}\" names no HHD version (expected 1.3 or 1.4)"),
            Self::NotAChallenge { failures } => {
                f.write_str("not a flicker challenge")?;
                for (index, failure) in failures.iter().enumerate() {
                    let separator = if index == 0 { ": " } else { "; " };
                    write!(f, "{separator}read with {}, {}", failure.reading, failure.fault)?;
                }
                Ok(())
            }
            Self::AlreadyRendered => f.write_str(
                "this is an already rendered flicker code, not a raw bank challenge; show it as it is instead of \
                 rendering it again",
            ),
            Self::MalformedChlguc { reason } => write!(f, "malformed CHLGUC challenge: {reason}"),
            Self::NotRendered(fault) => write!(f, "not a rendered flicker code: {fault}"),
            Self::NotFlickerData { as_rendered, as_challenge } => write!(
                f,
                "not flicker data: as a rendered code, {as_rendered}; as a raw challenge, {as_challenge}; \
                 and not base64 of either"
            ),
            Self::UnencodableCharacter { field, character } => {
                write!(f, "{field} contains {character:?}, which a flicker code cannot carry")
            }
            Self::NotDigits { field } => write!(f, "{field} is marked BCD but is not only digits"),
            Self::ElementTooLong { field, bytes, max, version } => {
                write!(f, "{field} needs {bytes} bytes; HHD {version} allows at most {max}")
            }
            Self::TooManyControlBytes { count, max } => {
                write!(f, "{count} control bytes; at most {max} are allowed")
            }
            Self::BrokenControlByteChain => {
                f.write_str("control bytes must each set bit 7 except the last, which must not")
            }
            Self::TooManyDataElements { count } => write!(f, "{count} data elements; at most 3 are allowed"),
            Self::CodeTooLong { bytes } => write!(f, "the flicker code would need {bytes} bytes; at most 256 fit"),
            Self::InvalidBase64 => f.write_str("the data is not valid base64"),
            Self::MatrixTooShort { needed, available } => {
                write!(f, "the photoTAN container needs {needed} bytes but has {available}")
            }
            Self::InvalidMimeType { mime_type } => write!(f, "\"{mime_type}\" is not a valid MIME type"),
            Self::UnsupportedMimeType { mime_type } => {
                write!(f, "the image type \"{mime_type}\" is not supported for photoTAN")
            }
            Self::EmptyImage => f.write_str("the photoTAN image is empty"),
            Self::ImageDoesNotMatchMimeType { mime_type } => {
                write!(f, "the image bytes are not of the declared type \"{mime_type}\"")
            }
            Self::UnknownImageFormat => f.write_str("the data is neither a photoTAN container nor a known image"),
            Self::InvalidDataUri { reason } => write!(f, "invalid data: URI: {reason}"),
            Self::QrImage { reason } => write!(f, "the chipTAN-QR image could not be drawn: {reason}"),
        }
    }
}

impl std::error::Error for TanError {}

impl From<RenderedFault> for TanError {
    fn from(fault: RenderedFault) -> Self {
        Self::NotRendered(fault)
    }
}
