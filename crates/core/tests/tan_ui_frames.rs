//! The UI's flicker fixture (`ui/src/lib/tan/fixtures/flicker-frames.json`) against the Rust frames (tan.md §4.1).
//!
//! The same JSON drives the TypeScript tests of `frames.ts` and of the `FlickerCode` component, so the frames the
//! UI draws and the frames `kontor_core::tan::flicker_frames` produces are pinned to one list.

use std::path::PathBuf;

use kontor_core::tan::{FlickerFrame, flicker_frames};
use serde_json::Value;

/// The fixture must keep at least these codes (tan.md §3.2 and the short HHD 1.4 vector).
const REQUIRED_CODES: [&str; 2] = ["0D85012045201998041234567855", "058201100F40"];

fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/tan/fixtures/flicker-frames.json")
}

/// `(render_hex, expected frame strings)` for every code in the fixture.
fn load_codes() -> Vec<(String, Vec<String>)> {
    let path = fixture_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("the UI flicker fixture must exist at {}: {err}", path.display()));
    let root: Value = serde_json::from_str(&text).unwrap_or_else(|err| panic!("{} is not JSON: {err}", path.display()));
    let codes = root
        .get("codes")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{} has no `codes` array", path.display()));
    codes
        .iter()
        .enumerate()
        .map(|(index, code)| {
            let hex = code
                .get("render_hex")
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("code #{index} has no `render_hex` string"));
            let frames =
                code.get("frames")
                    .and_then(Value::as_array)
                    .unwrap_or_else(|| panic!("code #{index} ({hex}) has no `frames` array"))
                    .iter()
                    .map(|frame| {
                        frame.as_str().map(str::to_owned).unwrap_or_else(|| {
                            panic!("code #{index} ({hex}) has a frame that is not a string: {frame}")
                        })
                    })
                    .collect();
            (hex.to_owned(), frames)
        })
        .collect()
}

#[test]
fn tan_ui_fixture_holds_the_required_codes() {
    let codes = load_codes();
    for required in REQUIRED_CODES {
        assert!(codes.iter().any(|(hex, _)| hex == required), "the UI fixture lacks {required}");
    }
}

#[test]
fn tan_ui_fixture_frames_equal_the_rust_frames() {
    let codes = load_codes();
    assert!(!codes.is_empty(), "the UI fixture has no codes");
    for (hex, expected) in codes {
        let actual: Vec<String> = flicker_frames(&hex)
            .unwrap_or_else(|err| panic!("{hex} must give frames: {err}"))
            .iter()
            .map(FlickerFrame::to_string)
            .collect();
        assert_eq!(actual.len(), 2 * (hex.len() + 4), "frame count of {hex}");
        assert_eq!(actual, expected, "frames of {hex}");
    }
}
