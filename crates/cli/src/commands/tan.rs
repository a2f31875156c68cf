//! `kontor tan …`: decode TAN challenges the way the app would show them.
//!
//! `decode <challenge>` accepts a bank's raw challenge (HHD 1.3/1.4, Sparda, `CHLGUC` framing), an already
//! rendered flicker code such as finAPI's `opticalData`, or base64 of either; `--hhd` passes the version the
//! bank's TAN method names. `decode --photo <base64>` accepts a FinTS matrix container or a bare image
//! (finAPI's `photoTanData`), with `--mime` for finAPI's `photoTanMimeType`.

use clap::{Args, Subcommand};
use kontor_core::tan::{self, FlickerCode, HhdVersion, PhotoTan};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{CommandFailure, print_json};

#[derive(Debug, Subcommand)]
pub enum TanCommand {
    /// Decode a flicker challenge or a photoTAN image and print it as JSON.
    Decode(DecodeArgs),
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The challenge: raw HHD challenge, rendered flicker hex, or base64 of either.
    #[arg(required_unless_present = "photo", conflicts_with = "photo")]
    challenge: Option<String>,

    /// HHD version from the bank's TAN method (1.3 or 1.4); narrows how the challenge is read.
    #[arg(long, value_name = "VERSION", value_parser = parse_hhd_version, conflicts_with = "photo")]
    hhd: Option<HhdVersion>,

    /// Decode a base64 photoTAN image or matrix container instead.
    #[arg(long, value_name = "BASE64")]
    photo: Option<String>,

    /// The image's declared MIME type, for a bare image (finAPI's photoTanMimeType).
    #[arg(long, value_name = "TYPE", requires = "photo")]
    mime: Option<String>,
}

fn parse_hhd_version(text: &str) -> Result<HhdVersion, String> {
    match text.trim() {
        "1.3" => Ok(HhdVersion::Hhd13),
        "1.4" => Ok(HhdVersion::Hhd14),
        other => Err(format!("\"{other}\" is not an HHD version; use 1.3 or 1.4")),
    }
}

pub fn run(command: TanCommand) -> Result<(), CommandFailure> {
    match command {
        TanCommand::Decode(args) => decode(args),
    }
}

fn decode(args: DecodeArgs) -> Result<(), CommandFailure> {
    let invalid = |err: tan::TanError| CommandFailure::InvalidInput(err.to_string());
    if let Some(photo) = args.photo {
        let photo = tan::decode_photo_base64(&photo, args.mime.as_deref()).map_err(invalid)?;
        return print_json(&PhotoOutput::from(&photo));
    }
    let challenge = args.challenge.unwrap_or_default();
    let code = tan::decode_optical_data(&challenge, args.hhd).map_err(invalid)?;
    print_json(&FlickerOutput::from(&code))
}

#[derive(Debug, Serialize)]
struct FlickerOutput<'a> {
    kind: &'static str,
    version: HhdVersion,
    start_code: &'a str,
    data_elements: Vec<&'a str>,
    render_hex: &'a str,
    luhn: &'a str,
    xor: &'a str,
}

impl<'a> From<&'a FlickerCode> for FlickerOutput<'a> {
    fn from(code: &'a FlickerCode) -> Self {
        Self {
            kind: "flicker",
            version: code.version,
            start_code: &code.start_code.value,
            data_elements: code.data_elements.iter().map(|element| element.value.as_str()).collect(),
            render_hex: &code.render_hex,
            luhn: &code.luhn,
            xor: &code.xor,
        }
    }
}

#[derive(Debug, Serialize)]
struct PhotoOutput<'a> {
    kind: &'static str,
    mime_type: &'a str,
    image_length: usize,
    image_sha256: String,
}

impl<'a> From<&'a PhotoTan> for PhotoOutput<'a> {
    fn from(photo: &'a PhotoTan) -> Self {
        let image_sha256 = Sha256::digest(&photo.image).iter().map(|byte| format!("{byte:02x}")).collect();
        Self { kind: "photo", mime_type: &photo.mime_type, image_length: photo.image.len(), image_sha256 }
    }
}
