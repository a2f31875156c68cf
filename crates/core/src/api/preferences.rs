//! The user's choices for the window: language and theme.
//!
//! They live in the vault's settings, so they move with the vault and are written nowhere else in plain
//! text. `System` follows the operating system. A stored value this build does not know (written by a newer
//! Kontor, or damaged) reads as `System` rather than failing the app's start.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Kontor;
use crate::error::Result;

const LANGUAGE: &str = "ui.language";
const THEME: &str = "ui.theme";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum LanguagePreference {
    #[default]
    System,
    De,
    En,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ThemePreference {
    #[default]
    System,
    Light,
    Dark,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Preferences {
    pub language: LanguagePreference,
    pub theme: ThemePreference,
}

fn stored<T: for<'de> Deserialize<'de> + Default>(value: Option<String>) -> T {
    value.and_then(|v| serde_json::from_value(serde_json::Value::String(v)).ok()).unwrap_or_default()
}

fn text<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        _ => String::new(),
    }
}

impl Kontor {
    /// The stored preferences (`System` for anything not chosen yet). Needs the open vault.
    pub fn preferences(&self) -> Result<Preferences> {
        self.with_store(|s| {
            Ok(Preferences { language: stored(s.setting(LANGUAGE)?), theme: stored(s.setting(THEME)?) })
        })
    }

    /// Stores `preferences` and returns them as stored.
    pub fn set_preferences(&self, preferences: Preferences) -> Result<Preferences> {
        self.with_store(|s| {
            s.set_setting(LANGUAGE, &text(&preferences.language))?;
            s.set_setting(THEME, &text(&preferences.theme))
        })?;
        self.preferences()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_round_trip_and_unknown_ones_follow_the_system() {
        assert_eq!(stored::<ThemePreference>(Some(text(&ThemePreference::Dark))), ThemePreference::Dark);
        assert_eq!(stored::<LanguagePreference>(Some("de".into())), LanguagePreference::De);
        assert_eq!(stored::<ThemePreference>(Some("sepia".into())), ThemePreference::System);
        assert_eq!(stored::<ThemePreference>(None), ThemePreference::System);
    }
}
