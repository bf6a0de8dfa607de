//! The desk's words in the admin's language, from `locales/<lang>/desk.ftl`.

use std::sync::Arc;

use crate::{
    i18n::{Catalog, Msg},
    metrics::kinds::{FallbackReason, Label},
    model::{Fallback, Lang, Stage, Style},
};

use super::index::State;

/// The catalog in one language, for one page.
#[derive(Clone)]
pub struct Text {
    catalog: Arc<Catalog>,
    /// The page's language.
    pub lang: Lang,
}

impl Text {
    /// The words of `lang`.
    pub fn new(catalog: Arc<Catalog>, lang: Lang) -> Text {
        Text { catalog, lang }
    }

    /// The message `id` (its id itself, if the catalog lacks it: a visible slip, not a blank).
    pub fn get(&self, id: &str) -> String {
        self.catalog.lookup(self.lang, id).unwrap_or_else(|| {
            tracing::error!(id, lang = %self.lang, "desk message missing from the catalog");
            id.to_owned()
        })
    }

    /// Why turns came from the offline bank, as the counters group them.
    pub fn fallback_reason(&self, reason: FallbackReason) -> String {
        self.get(&format!(
            "desk-fallback-{}",
            reason.label().replace('_', "-")
        ))
    }

    /// Why one question came from the offline bank.
    pub fn fallback(&self, reason: Fallback) -> String {
        match FallbackReason::try_from(reason) {
            Ok(reason) => self.fallback_reason(reason),
            Err(()) => self.get("desk-fallback-no-model"),
        }
    }

    /// A state's name.
    pub fn state(&self, state: State) -> String {
        self.get(&format!("desk-state-{}", state.id().replace('_', "-")))
    }

    /// A stage's name (the bot's own).
    pub fn stage(&self, stage: Stage) -> String {
        self.catalog.text(self.lang, &Msg::stage(stage))
    }

    /// An interviewer personality's name (the bot's own).
    pub fn style(&self, style: Style) -> String {
        self.catalog.text(self.lang, &Msg::style(style))
    }
}
