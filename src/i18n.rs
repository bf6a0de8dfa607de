//! Localization: the session languages and the fluent catalog behind typed message ids.
//!
//! Every user-visible string lives in `locales/<lang>/*.ftl` and is embedded in the binary.
//! Code reaches it only through [`Msg`], whose variants carry the message's variables, so a
//! misspelt id or a missing variable is a compile error rather than a blank reply.

use std::fmt;

use fluent::{FluentArgs, FluentResource, FluentValue, concurrent::FluentBundle};
use serde::{Deserialize, Serialize};
use unic_langid::{LanguageIdentifier, langid};

use crate::interview::{Stage, Style};

/// A language an interview can be held in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Russian.
    Ru,
}

impl Lang {
    /// Every supported language.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ru];

    /// The two-letter code, as Telegram and fluent use it.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

    /// The language's English name, as the model is told it.
    pub fn english_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Ru => "Russian",
        }
    }

    /// Maps a client language code (`ru`, `ru-RU`, `en-GB`...) to a supported language.
    pub fn from_code(code: &str) -> Option<Lang> {
        let primary = code.split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "ru" => Some(Lang::Ru),
            _ => None,
        }
    }

    fn langid(self) -> LanguageIdentifier {
        match self {
            Lang::En => langid!("en"),
            Lang::Ru => langid!("ru"),
        }
    }
}

impl std::str::FromStr for Lang {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s.to_ascii_lowercase().as_str() {
            "en" => Ok(Lang::En),
            "ru" => Ok(Lang::Ru),
            _ => Err(()),
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The `.ftl` sources of each language, embedded at build time.
pub const SOURCES: [(Lang, &[(&str, &str)]); 2] = [
    (
        Lang::En,
        &[
            ("bot.ftl", include_str!("../locales/en/bot.ftl")),
            ("interview.ftl", include_str!("../locales/en/interview.ftl")),
            ("questions.ftl", include_str!("../locales/en/questions.ftl")),
        ],
    ),
    (
        Lang::Ru,
        &[
            ("bot.ftl", include_str!("../locales/ru/bot.ftl")),
            ("interview.ftl", include_str!("../locales/ru/interview.ftl")),
            ("questions.ftl", include_str!("../locales/ru/questions.ftl")),
        ],
    ),
];

/// Why the catalog could not be built (a broken `.ftl` file).
#[derive(Debug, thiserror::Error)]
#[error("locales/{lang}/{file}: {detail}")]
pub struct CatalogError {
    lang: Lang,
    file: &'static str,
    detail: String,
}

/// The fluent bundles of every language, shared read-only by all tasks.
pub struct Catalog {
    bundles: Vec<(Lang, FluentBundle<FluentResource>)>,
}

impl fmt::Debug for Catalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Catalog").finish_non_exhaustive()
    }
}

impl Catalog {
    /// Builds the catalog from the embedded `.ftl` sources.
    pub fn load() -> Result<Catalog, CatalogError> {
        let mut bundles = Vec::new();
        for (lang, files) in SOURCES {
            let mut bundle = FluentBundle::new_concurrent(vec![lang.langid()]);
            // Telegram renders the bidi isolation marks as junk; none of our text needs them.
            bundle.set_use_isolating(false);
            for (file, source) in files {
                let resource =
                    FluentResource::try_new(source.to_string()).map_err(|(_, errs)| {
                        CatalogError {
                            lang,
                            file,
                            detail: format!("{errs:?}"),
                        }
                    })?;
                bundle.add_resource(resource).map_err(|errs| CatalogError {
                    lang,
                    file,
                    detail: format!("{errs:?}"),
                })?;
            }
            bundles.push((lang, bundle));
        }
        Ok(Catalog { bundles })
    }

    fn bundle(&self, lang: Lang) -> &FluentBundle<FluentResource> {
        &self
            .bundles
            .iter()
            .find(|(l, _)| *l == lang)
            .expect("every language has a bundle")
            .1
    }

    /// The text of `msg` in `lang`.
    pub fn text(&self, lang: Lang, msg: &Msg) -> String {
        self.format(lang, msg.id(), Some(&msg.args()))
            .unwrap_or_else(|| {
                tracing::error!(id = msg.id(), %lang, "message missing from the catalog");
                msg.id().to_owned()
            })
    }

    /// The text of a message by raw id, or `None` if the language does not define it.
    /// Used for the numbered offline question bank.
    pub fn lookup(&self, lang: Lang, id: &str) -> Option<String> {
        self.format(lang, id, None)
    }

    fn format(&self, lang: Lang, id: &str, args: Option<&FluentArgs>) -> Option<String> {
        let bundle = self.bundle(lang);
        let pattern = bundle.get_message(id)?.value()?;
        let mut errors = Vec::new();
        let text = bundle
            .format_pattern(pattern, args, &mut errors)
            .into_owned();
        if !errors.is_empty() {
            tracing::warn!(id, %lang, ?errors, "message formatted with errors");
        }
        Some(text)
    }
}

/// A value passed into a message.
fn value<T: Into<FluentValue<'static>>>(v: T) -> FluentValue<'static> {
    v.into()
}

macro_rules! messages {
    ($( $(#[$doc:meta])* $name:ident $({ $($field:ident : $ty:ty),* $(,)? })? => $id:literal ),* $(,)?) => {
        /// Every user-visible message, with the variables it takes.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Msg {
            $( $(#[$doc])* $name $({ $(#[allow(missing_docs)] $field: $ty),* })? ),*
        }

        impl Msg {
            /// Every message id with the names of its variables, for the catalog's tests.
            pub const SIGNATURES: &'static [(&'static str, &'static [&'static str])] = &[
                $( ($id, &[ $($(stringify!($field)),*)? ]) ),*
            ];

            /// The fluent id of this message.
            pub fn id(&self) -> &'static str {
                match self {
                    $( Msg::$name { .. } => $id ),*
                }
            }

            /// The message's variables.
            #[allow(unused_mut, unused_variables)]
            pub fn args(&self) -> FluentArgs<'static> {
                let mut args = FluentArgs::new();
                match self {
                    $( Msg::$name $({ $($field),* })? => {
                        $($( args.set(stringify!($field), value($field.clone())); )*)?
                    } ),*
                }
                args
            }
        }
    };
}

messages! {
    /// The display name of a stage.
    StageName { stage: String } => "stage-name",
    /// The display name of an interviewer personality.
    StyleName { style: String } => "style-name",
    /// A one-line description of an interviewer personality.
    StyleDescription { style: String } => "style-description",
    /// An empty or whitespace-only answer.
    AnswerEmpty => "answer-empty",
    /// An answer over the length limit.
    AnswerTooLong { length: usize, limit: usize } => "answer-too-long",
    /// The previous session file could not be read and was set aside.
    SessionQuarantined => "session-quarantined",
    /// A fault on our side; the user's answers are safe.
    InternalError => "internal-error",
    /// The interview is over; the report follows.
    InterviewComplete => "interview-complete",
    /// A session idle past the timeout: resume or start over?
    IdlePrompt { minutes: i64, stage: String } => "idle-prompt",
    /// Resuming an interview: the last question is repeated.
    Resumed { stage: String } => "resumed",
    /// No interview is running.
    NoInterview => "no-interview",
    /// The status heading: stage n of 9.
    StatusHeader { number: usize, total: usize, stage: String } => "status-header",
    /// One stage's line in the status.
    StatusStage { stage: String, completeness: u8, minutes: i64, budget: i64 } => "status-stage",
    /// The status footer: totals.
    StatusTotals { minutes: i64, planned: i64, answers: usize, insights: usize } => "status-totals",
    /// The interview's personality and language in the status.
    StatusStyle { style: String } => "status-style",
    /// The report's title.
    ReportTitle => "report-title",
    /// The report's line about the expert and the interview.
    ReportMeta { date: String, minutes: i64, answers: usize } => "report-meta",
    /// The report's summary section heading.
    ReportSummary => "report-summary",
    /// The report's heading for insights in a stage.
    ReportInsights => "report-insights",
    /// The report's heading for the expert's own words in a stage.
    ReportInWords => "report-in-words",
    /// The transcript export's title.
    TranscriptTitle => "transcript-title",
    /// The label of the interviewer in transcripts.
    SpeakerInterviewer => "speaker-interviewer",
    /// The label of the expert in transcripts.
    SpeakerExpert => "speaker-expert",
    /// Console: running without a key.
    ConsoleOffline => "console-offline",
    /// Console: how to use it.
    ConsoleHelp => "console-help",
    /// Console: the resume-or-start-over question.
    ConsoleResumeChoice => "console-resume-choice",
    /// Console: the old interview was archived and a new one begins.
    ConsoleReset => "console-reset",
    /// Console: where the report was saved.
    ConsoleReportSaved { path: String } => "console-report-saved",
    /// Console: goodbye on /quit.
    ConsoleBye => "console-bye",
}

impl Msg {
    /// The display name of `stage`.
    pub fn stage(stage: Stage) -> Msg {
        Msg::StageName {
            stage: stage.id().to_owned(),
        }
    }

    /// The display name of `style`.
    pub fn style(style: Style) -> Msg {
        Msg::StyleName {
            style: style.id().to_owned(),
        }
    }
}
