//! Inline keyboards. Every button's data is a [`Callback`].

use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use super::callback::Callback;
use crate::{
    i18n::{Catalog, Lang, Msg},
    interview::Style,
};

fn button(text: String, callback: Callback) -> InlineKeyboardButton {
    InlineKeyboardButton::callback(text, callback.encode())
}

/// 🇬🇧 English / 🇷🇺 Русский, the detected language first.
pub fn languages(catalog: &Catalog, detected: Lang) -> InlineKeyboardMarkup {
    let en = button(
        catalog.text(Lang::En, &Msg::ButtonEnglish),
        Callback::Language(Lang::En),
    );
    let ru = button(
        catalog.text(Lang::Ru, &Msg::ButtonRussian),
        Callback::Language(Lang::Ru),
    );
    let row = match detected {
        Lang::En => vec![en, ru],
        Lang::Ru => vec![ru, en],
    };
    InlineKeyboardMarkup::new([row])
}

/// One button per personality.
pub fn styles(catalog: &Catalog, lang: Lang) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(Style::ALL.map(|style| {
        [button(
            catalog.text(lang, &Msg::style(style)),
            Callback::Style(style),
        )]
    }))
}

/// 🚀 Begin.
pub fn begin(catalog: &Catalog, lang: Lang) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([[button(
        catalog.text(lang, &Msg::ButtonBegin),
        Callback::Begin,
    )]])
}

/// ▶️ Resume / 🔄 Start over, for the interview `session`.
pub fn resume_or_restart(catalog: &Catalog, lang: Lang, session: u32) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([[
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

/// A confirmation: `confirm` or ❌ Cancel.
pub fn confirm(
    catalog: &Catalog,
    lang: Lang,
    label: Msg,
    confirm: Callback,
) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([[
        button(catalog.text(lang, &label), confirm),
        button(catalog.text(lang, &Msg::ButtonCancel), Callback::Cancel),
    ]])
}
