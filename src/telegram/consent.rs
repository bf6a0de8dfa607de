//! The notice an expert accepts before the first question: who reads the interview (the
//! operators of this bot), which services process their words, how long it is kept, and
//! that `/delete` erases it. It is shown under the briefing, whose 🚀 Begin button accepts
//! it, so agreeing costs Telegram no extra message.
//!
//! The session keeps the notice's *version*, a hash of the exact text shown, with the time
//! of the press: if the operator later changes the text, what an earlier expert agreed to
//! stays identifiable. Nothing of an interview without consent reaches the operator's desk.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::{
    i18n::{Catalog, Lang, Msg},
    model::{Consent, Study},
};

/// What the notice is built from; the settings build it.
#[derive(Debug, Clone, Default)]
pub struct ConsentConfig {
    /// The operator's own notice per language (`CONSENT_EN_FILE`, `CONSENT_RU_FILE`), in
    /// place of the built-in one.
    pub texts: BTreeMap<Lang, String>,
    /// `SESSION_RETENTION_DAYS`: how long finished interviews are kept (0: until deleted).
    pub retention_days: u32,
    /// Whether voice notes are sent to AssemblyAI (a key is set and voice is enabled).
    pub voice_transcribed: bool,
}

/// The notice as shown in one language, with its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The text shown under the briefing.
    pub text: String,
    /// The first 16 hex digits of the text's SHA-256.
    pub version: String,
}

impl ConsentConfig {
    /// The notice in `lang`: the operator's text if they gave one, else the built-in one
    /// filled in with this deployment's facts.
    pub fn notice(&self, catalog: &Catalog, lang: Lang) -> Notice {
        let text = self.texts.get(&lang).cloned().unwrap_or_else(|| {
            catalog.text(
                lang,
                &Msg::ConsentNotice {
                    voice: if self.voice_transcribed { "yes" } else { "no" }.to_owned(),
                    days: self.retention_days,
                },
            )
        });
        Notice::of(text)
    }

    /// The notice of an interview of `study` in its language: the study's own text when it
    /// has one, else the deployment's notice with the line on the study's synthesis. Either
    /// way the version is the hash of the very text shown.
    pub fn study_notice(&self, catalog: &Catalog, study: &Study) -> Notice {
        match &study.consent {
            Some(own) => Notice::of(own.clone()),
            None => {
                let lang = study.language;
                let base = self.notice(catalog, lang).text;
                let extra = catalog.text(lang, &Msg::ConsentStudy);
                Notice::of(format!("{base}\n\n{extra}"))
            }
        }
    }
}

impl Notice {
    /// The notice showing `text`, versioned by its hash.
    pub fn of(text: String) -> Notice {
        let digest = Sha256::digest(text.as_bytes());
        let version = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Notice { text, version }
    }

    /// What the session keeps when the expert accepts this notice at `at`.
    pub fn accepted(&self, at: chrono::DateTime<chrono::Utc>) -> Consent {
        Consent {
            version: self.version.clone(),
            at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::load().unwrap()
    }

    #[test]
    fn the_built_in_notice_names_the_services_and_the_retention_in_each_language() {
        let config = ConsentConfig {
            texts: BTreeMap::new(),
            retention_days: 30,
            voice_transcribed: true,
        };
        let en = config.notice(&catalog(), Lang::En).text;
        assert!(en.contains("operators of this bot"), "{en}");
        assert!(
            en.contains("Anthropic") && en.contains("AssemblyAI"),
            "{en}"
        );
        assert!(en.contains("30 days") && en.contains("/delete"), "{en}");
        let ru = config.notice(&catalog(), Lang::Ru).text;
        assert!(ru.contains("AssemblyAI") && ru.contains("30 дней"), "{ru}");
        let quiet = ConsentConfig {
            voice_transcribed: false,
            retention_days: 0,
            ..config
        };
        let en = quiet.notice(&catalog(), Lang::En).text;
        assert!(!en.contains("AssemblyAI"), "{en}");
        assert!(en.contains("until you delete it"), "{en}");
    }

    #[test]
    fn a_studys_notice_is_its_own_text_or_the_deployments_with_the_synthesis_line() {
        use crate::model::{NewStudy, Study, Style};
        let config = ConsentConfig::default();
        let mut draft = NewStudy {
            title: "Night shift".into(),
            subject: "The furnace".into(),
            language: Lang::En,
            style: Style::MasterInterviewer,
            consent: Some("The plant's training team reads this.".into()),
            experts_sought: 0,
        };
        let own = Study::new(draft.clone(), chrono::Utc::now()).unwrap();
        let notice = config.study_notice(&catalog(), &own);
        assert_eq!(
            notice,
            Notice::of("The plant's training team reads this.".into())
        );
        draft.consent = None;
        let plain = Study::new(draft, chrono::Utc::now()).unwrap();
        let notice = config.study_notice(&catalog(), &plain);
        let deployment = config.notice(&catalog(), Lang::En);
        assert!(notice.text.starts_with(&deployment.text), "{}", notice.text);
        assert!(
            notice.text.contains("other experts never see"),
            "{}",
            notice.text
        );
        assert_ne!(
            notice.version, deployment.version,
            "the version covers the line added"
        );
    }

    #[test]
    fn the_version_follows_the_text_shown() {
        let built_in = ConsentConfig::default();
        let own = ConsentConfig {
            texts: BTreeMap::from([(Lang::En, "Our own notice.".to_owned())]),
            ..ConsentConfig::default()
        };
        let (a, b) = (
            built_in.notice(&catalog(), Lang::En),
            own.notice(&catalog(), Lang::En),
        );
        assert_eq!(b.text, "Our own notice.");
        assert_eq!(a.version.len(), 16);
        assert_ne!(a.version, b.version);
        assert_eq!(b, own.notice(&catalog(), Lang::En));
        // Russian has no text of the operator's: the built-in one.
        assert_eq!(
            own.notice(&catalog(), Lang::Ru),
            built_in.notice(&catalog(), Lang::Ru)
        );
    }
}
