//! Inline keyboards, typed: every button carries a [`Callback`], and a keyboard can be saved
//! with a message that is still waiting to be sent.

use serde::{Deserialize, Serialize};
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use super::callback::Callback;
use crate::{
    i18n::{Catalog, Lang, Msg},
    interview::Style,
};

/// One button: its label and what pressing it asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    /// The label.
    pub label: String,
    /// The button's data.
    pub callback: Callback,
}

/// Rows of buttons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keyboard(pub Vec<Vec<Button>>);

impl Keyboard {
    /// The Bot API form.
    pub fn markup(&self) -> InlineKeyboardMarkup {
        InlineKeyboardMarkup::new(self.0.iter().map(|row| {
            row.iter()
                .map(|b| InlineKeyboardButton::callback(b.label.clone(), b.callback.encode()))
                .collect::<Vec<_>>()
        }))
    }

    /// Every callback on the keyboard.
    pub fn callbacks(&self) -> impl Iterator<Item = Callback> + '_ {
        self.0.iter().flatten().map(|b| b.callback)
    }
}

fn button(label: String, callback: Callback) -> Button {
    Button { label, callback }
}

/// 🇬🇧 English / 🇷🇺 Русский, the detected language first.
pub fn languages(catalog: &Catalog, detected: Lang) -> Keyboard {
    let en = button(
        catalog.text(Lang::En, &Msg::ButtonEnglish),
        Callback::Language(Lang::En),
    );
    let ru = button(
        catalog.text(Lang::Ru, &Msg::ButtonRussian),
        Callback::Language(Lang::Ru),
    );
    Keyboard(vec![match detected {
        Lang::En => vec![en, ru],
        Lang::Ru => vec![ru, en],
    }])
}

/// One button per personality.
pub fn styles(catalog: &Catalog, lang: Lang) -> Keyboard {
    Keyboard(
        Style::ALL
            .iter()
            .map(|style| {
                vec![button(
                    catalog.text(lang, &Msg::style(*style)),
                    Callback::Style(*style),
                )]
            })
            .collect(),
    )
}

/// 🚀 Begin.
pub fn begin(catalog: &Catalog, lang: Lang) -> Keyboard {
    Keyboard(vec![vec![button(
        catalog.text(lang, &Msg::ButtonBegin),
        Callback::Begin,
    )]])
}

/// ▶️ Resume / 🔄 Start over, for the interview `session`.
pub fn resume_or_restart(catalog: &Catalog, lang: Lang, session: u32) -> Keyboard {
    Keyboard(vec![vec![
        button(
            catalog.text(lang, &Msg::ButtonResume),
            Callback::Resume(session),
        ),
        button(
            catalog.text(lang, &Msg::ButtonStartOver),
            Callback::StartOver(session),
        ),
    ]])
}

/// ✅ Confirm / ✏️ Correct, for the report of interview `session`.
pub fn review(catalog: &Catalog, lang: Lang, session: u32) -> Keyboard {
    Keyboard(vec![vec![
        button(
            catalog.text(lang, &Msg::ButtonReportConfirm),
            Callback::ReportConfirm(session),
        ),
        button(
            catalog.text(lang, &Msg::ButtonReportCorrect),
            Callback::ReportCorrect(session),
        ),
    ]])
}

/// A confirmation: `confirm` or ❌ Cancel.
pub fn confirm(catalog: &Catalog, lang: Lang, label: Msg, confirm: Callback) -> Keyboard {
    Keyboard(vec![vec![
        button(catalog.text(lang, &label), confirm),
        button(catalog.text(lang, &Msg::ButtonCancel), Callback::Cancel),
    ]])
}

/// ✅ Use it / 🔁 Send again or type, for the doubtful transcript of the voice note from
/// `update`.
pub fn voice_confirm(catalog: &Catalog, lang: Lang, update: u32) -> Keyboard {
    Keyboard(vec![vec![
        button(
            catalog.text(lang, &Msg::ButtonVoiceUse),
            Callback::VoiceUse(update),
        ),
        button(
            catalog.text(lang, &Msg::ButtonVoiceRetry),
            Callback::VoiceRetry(update),
        ),
    ]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keyboard_survives_a_json_round_trip_with_its_typed_callbacks() {
        let catalog = Catalog::load().unwrap();
        let keyboard = resume_or_restart(&catalog, Lang::Ru, 77);
        let json = serde_json::to_string(&keyboard).unwrap();
        assert!(json.contains("\"resume:77\""), "{json}");
        let back: Keyboard = serde_json::from_str(&json).unwrap();
        assert_eq!(back, keyboard);
        assert!(serde_json::from_str::<Keyboard>(&json.replace("resume:77", "drop")).is_err());
    }
}
