//! Localization: the session languages and the fluent catalog behind typed message ids.
//!
//! Every user-visible string lives in `locales/<lang>/*.ftl` and is embedded in the binary.
//! Code reaches it only through [`Msg`], whose variants carry the message's variables, so a
//! misspelt id or a missing variable is a compile error rather than a blank reply.

use std::fmt;

use fluent::{FluentArgs, FluentResource, FluentValue, concurrent::FluentBundle};
use unic_langid::{LanguageIdentifier, langid};

pub use crate::model::Lang;
use crate::model::{Stage, Style};

/// The `.ftl` sources of each language, embedded at build time.
pub const SOURCES: [(Lang, &[(&str, &str)]); 2] = [
    (
        Lang::En,
        &[
            ("bot.ftl", include_str!("../locales/en/bot.ftl")),
            ("interview.ftl", include_str!("../locales/en/interview.ftl")),
            ("questions.ftl", include_str!("../locales/en/questions.ftl")),
            ("desk.ftl", include_str!("../locales/en/desk.ftl")),
        ],
    ),
    (
        Lang::Ru,
        &[
            ("bot.ftl", include_str!("../locales/ru/bot.ftl")),
            ("interview.ftl", include_str!("../locales/ru/interview.ftl")),
            ("questions.ftl", include_str!("../locales/ru/questions.ftl")),
            ("desk.ftl", include_str!("../locales/ru/desk.ftl")),
        ],
    ),
];

/// The fluent identifier of `lang`.
fn langid(lang: Lang) -> LanguageIdentifier {
    match lang {
        Lang::En => langid!("en"),
        Lang::Ru => langid!("ru"),
    }
}

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
            let mut bundle = FluentBundle::new_concurrent(vec![langid(lang)]);
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
    /// The offline report's heading for what a stage's summary found.
    ReportFindings => "report-findings",
    /// The heading of a report section (`profile`, `essence`, `task_diagram`...).
    ReportSection { section: String } => "report-section",
    /// A column of the report's table of cues (`situation`, `cues`, `strategy`,
    /// `typical_error`, `source`).
    ReportColumn { column: String } => "report-column",
    /// A report section with nothing to rest on.
    ReportTooLittle => "report-too-little",
    /// The mark of a hard step in the task diagram.
    ReportHard => "report-hard",
    /// A reference to the expert's correction.
    ReportFromCorrection => "report-from-correction",
    /// How to read the report's references.
    ReportReferences => "report-references",
    /// The note on a report revised after the expert's correction.
    ReportRevisedNote { date: String } => "report-revised-note",
    /// The heading of the expert's correction at the end of the report.
    ReportCorrection => "report-correction",
    /// The note on a correction that could not be worked into the report.
    ReportCorrectionUnapplied => "report-correction-unapplied",
    /// The note on a report made without Claude.
    ReportOfflineNote => "report-offline-note",
    /// The offline report: the label of an item of a section (`task`, `steps`, `hard`,
    /// `watch`, `tools`, `order`, `areas`).
    ReportLabel { label: String } => "report-label",
    /// The offline report: what a section lacks, listed.
    ReportNotCovered { gaps: String } => "report-not-covered",
    /// The offline report: a stage the interview never reached.
    ReportStageSkipped { stage: String } => "report-stage-skipped",
    /// The offline report: questions of a stage left unanswered.
    ReportUnanswered { stage: String, count: usize } => "report-unanswered",
    /// The offline report: the expert's correction of the passage above it.
    ReportCorrectedHere { at: String } => "report-corrected-here",
    /// The offline report: how to read its references.
    ReportOfflineReferences => "report-offline-references",
    /// The one-screen message: the report is ready.
    ReportReady => "report-ready",
    /// The one-screen message: the report is ready, made without Claude.
    ReportReadyOffline => "report-ready-offline",
    /// The one-screen message: sections with too little material.
    ReportThin { sections: String } => "report-thin",
    /// The one-screen message: please confirm or correct.
    ReportCheck => "report-check",
    /// The revised report is here.
    ReportRevised => "report-revised",
    /// The correction could not be worked in and is attached.
    ReportCorrectionKept => "report-correction-kept",
    /// The expert confirmed the report.
    ReportConfirmed => "report-confirmed",
    /// Claude is unavailable: the report will follow.
    ReportDelayed => "report-delayed",
    /// Claude is unavailable: the revised report will follow.
    ReportRevisionDelayed => "report-revision-delayed",
    /// The transcript export's title.
    TranscriptTitle => "transcript-title",
    /// The label of the interviewer in transcripts.
    SpeakerInterviewer => "speaker-interviewer",
    /// The label of the expert in transcripts.
    SpeakerExpert => "speaker-expert",
    /// Telegram: greeting and language question.
    Welcome { name: String } => "welcome",
    /// Telegram: the language question on /language.
    ChooseLanguage => "choose-language",
    /// Telegram: the language was chosen.
    LanguageChosen => "language-chosen",
    /// Telegram: the language was changed during an interview.
    LanguageChanged => "language-changed",
    /// Telegram: the personality question.
    ChooseStyle => "choose-style",
    /// Telegram: the personality was chosen.
    StyleChosen { style: String } => "style-chosen",
    /// Telegram: how the interview works.
    Briefing => "briefing",
    /// Telegram: who reads the interview, which services process it, how long it is kept;
    /// `voice` is "yes" when voice notes are transcribed, `days` 0 when files are kept.
    ConsentNotice { voice: String, days: u32 } => "consent-notice",
    /// Telegram: the welcome of an expert who came with a study's invite link, naming it.
    WelcomeStudy { name: String, title: String } => "welcome-study",
    /// Telegram: an invite link that is closed or not valid (one reply for both, so a forged
    /// code learns nothing); a normal start follows.
    InviteInvalid => "invite-invalid",
    /// Telegram: the line the deployment's notice gains in a study: the synthesis quotes the
    /// expert to the operators, never to other experts.
    ConsentStudy => "consent-study",
    /// Telegram: the Begin button.
    ButtonBegin => "button-begin",
    /// Telegram: the English button.
    ButtonEnglish => "button-english",
    /// Telegram: the Russian button.
    ButtonRussian => "button-russian",
    /// Telegram: the Resume button.
    ButtonResume => "button-resume",
    /// Telegram: the Start over button.
    ButtonStartOver => "button-start-over",
    /// Telegram: the button confirming /reset.
    ButtonResetConfirm => "button-reset-confirm",
    /// Telegram: the button confirming /delete.
    ButtonDeleteConfirm => "button-delete-confirm",
    /// Telegram: the Cancel button.
    ButtonCancel => "button-cancel",
    /// Telegram: the line above a reply that opens a new stage.
    StageHeader { number: usize, total: usize, stage: String } => "stage-header",
    /// Telegram: /start during an interview.
    InProgress { stage: String, answers: usize } => "in-progress",
    /// Telegram: text sent while buttons are expected.
    ChooseWithButtons => "choose-with-buttons",
    /// Telegram: text sent with no interview in progress.
    SendStart => "send-start",
    /// Telegram: an old, unknown or forged button.
    StaleButton => "stale-button",
    /// Telegram: a confirmation was dismissed.
    Cancelled => "cancelled",
    /// Telegram: /reset asks for confirmation.
    ResetConfirm => "reset-confirm",
    /// Telegram: /reset done.
    ResetDone => "reset-done",
    /// Telegram: /delete asks for confirmation.
    DeleteConfirm => "delete-confirm",
    /// Telegram: /delete done.
    DeleteDone => "delete-done",
    /// Telegram: the caption of the /export documents.
    ExportTranscript => "export-transcript",
    /// Telegram: the caption of the report document.
    ReportCaption => "report-caption",
    /// Telegram: the caption of the revised report document.
    ReportRevisedCaption => "report-revised-caption",
    /// Telegram: the button confirming the report.
    ButtonReportConfirm => "button-report-confirm",
    /// Telegram: the button asking to correct the report.
    ButtonReportCorrect => "button-report-correct",
    /// Telegram: what should be corrected?
    ReportCorrectAsk => "report-correct-ask",
    /// Telegram: a voice note sent as a report correction.
    ReportCorrectTyped => "report-correct-typed",
    /// Telegram: the report of the last interview is still on its way.
    ReportOnItsWay => "report-on-its-way",
    /// Telegram: an unknown command.
    UnknownCommand => "unknown-command",
    /// Telegram: /help.
    Help => "help",
    /// Telegram: a user not on the allow list.
    NotAllowed => "not-allowed",
    /// Telegram: over the rate limit.
    RateLimited { seconds: u64 } => "rate-limited",
    /// Telegram: the bot was written to in a group.
    PrivateOnly => "private-only",
    /// Telegram: a message kind the bot does not read.
    UnsupportedMessage => "unsupported-message",
    /// Voice: the transcript echoed back, with a confidence indicator (`level` is `high`,
    /// `fair` or `low`; `percent` 0-100).
    VoiceTranscript { text: String, level: String, percent: u8 } => "voice-transcript",
    /// Voice: a transcript below the quality threshold: use it, or send again / type?
    VoiceLowConfidence { percent: u8 } => "voice-low-confidence",
    /// Voice: the button taking a doubtful transcript as the answer.
    ButtonVoiceUse => "button-voice-use",
    /// Voice: the button dropping a doubtful transcript (send again or type).
    ButtonVoiceRetry => "button-voice-retry",
    /// Voice: the doubtful transcript was taken as the answer.
    VoiceUsed => "voice-used",
    /// Voice: the doubtful transcript was set aside.
    VoiceSetAside => "voice-set-aside",
    /// Voice: the file could not be fetched from Telegram.
    VoiceDownloadFailed => "voice-download-failed",
    /// Voice: the note waits for a free transcription slot.
    VoiceQueued => "voice-queued",
    /// Voice: voice processing is turned off.
    VoiceDisabled => "voice-disabled",
    /// Voice: no speech recognition key is configured.
    VoiceNotConfigured => "voice-not-configured",
    /// Voice: the file is over the size limit.
    VoiceTooBig { limit_mb: u64 } => "voice-too-big",
    /// Voice: the recording is over the duration limit (`minutes` and `seconds` of the limit).
    VoiceTooLong { minutes: u64, seconds: u64 } => "voice-too-long",
    /// Voice: the file is damaged or not audio.
    VoiceUnreadable => "voice-unreadable",
    /// Voice: the format needs a conversion that is not available (no ffmpeg).
    VoiceFormatUnavailable => "voice-format-unavailable",
    /// Voice: the speech recognition service refuses the bot's configuration.
    VoiceServiceMisconfigured => "voice-service-misconfigured",
    /// Voice: the speech recognition service is down, overloaded or too slow.
    VoiceServiceDown => "voice-service-down",
    /// Voice: the service could not transcribe this recording.
    VoiceTranscriptionFailed => "voice-transcription-failed",
    /// Voice: no speech was heard.
    VoiceEmpty => "voice-empty",
    /// Telegram command menu: /start.
    CmdStart => "cmd-start",
    /// Telegram command menu: /status.
    CmdStatus => "cmd-status",
    /// Telegram command menu: /complete.
    CmdComplete => "cmd-complete",
    /// Telegram command menu: /reset.
    CmdReset => "cmd-reset",
    /// Telegram command menu: /language.
    CmdLanguage => "cmd-language",
    /// Telegram command menu: /export.
    CmdExport => "cmd-export",
    /// Telegram command menu: /delete.
    CmdDelete => "cmd-delete",
    /// Telegram command menu: /help.
    CmdHelp => "cmd-help",
    /// Console: running without a key.
    ConsoleOffline => "console-offline",
    /// Console: the line it starts with: how to answer, and that /help tells more.
    ConsoleIntro => "console-intro",
    /// Console: /help, each command and how to write an answer of several lines.
    ConsoleHelp => "console-help",
    /// Console: the resume-or-start-over question.
    ConsoleResumeChoice => "console-resume-choice",
    /// Console: the old interview was archived and a new one begins.
    ConsoleReset => "console-reset",
    /// Console: where the report was saved.
    ConsoleReportSaved { path: String } => "console-report-saved",
    /// Console: confirm the report, or type a correction.
    ConsoleReviewPrompt => "console-review-prompt",
    /// Console: the report waits for Claude; run the console again later.
    ConsoleReportDelayed => "console-report-delayed",
    /// Console: goodbye on /quit.
    ConsoleBye => "console-bye",
    /// Console: a line starting with `/` that is no console command; the commands follow.
    ConsoleUnknownCommand { command: String } => "console-unknown-command",
    /// Console: the question was skipped (/skip).
    ConsoleSkipped => "console-skipped",
    /// Console: what the transcript holds for a skipped question, as the expert's message.
    ConsoleSkipStandIn => "console-skip-stand-in",
    /// Console: /reset asks before archiving the interview.
    ConsoleResetConfirm => "console-reset-confirm",
    /// Console: /reset was declined; the interview goes on.
    ConsoleResetKept => "console-reset-kept",
    /// Console: a yes-or-no question got neither.
    ConsoleYesOrNo => "console-yes-or-no",
    /// Console: a multi-line answer was opened with `"""`; how to close it.
    ConsoleBlockOpen => "console-block-open",
    /// Console: the review prompt got "no"; asks for the correction itself.
    ConsoleReviewCorrection => "console-review-correction",
    /// /metrics: the heading with the version and uptime.
    MetricsTitle { version: String, uptime: String } => "metrics-title",
    /// /metrics: how to read the figures (today / all time).
    MetricsLegend => "metrics-legend",
    /// An admin's one-time sign-in link to the desk.
    DeskLink { url: String } => "desk-link",
    /// /metrics: interviews in progress, started, completed, abandoned; completion rate.
    MetricsInterviews {
        active: String,
        started_today: String,
        started_all: String,
        completed_today: String,
        completed_all: String,
        abandoned_today: String,
        abandoned_all: String,
        rate: String,
    } => "metrics-interviews",
    /// /metrics: answers by kind.
    MetricsAnswers { text_today: String, text_all: String, voice_today: String, voice_all: String } => "metrics-answers",
    /// /metrics: Claude calls and their success rate.
    MetricsClaude { calls_today: String, calls_all: String, success_today: String, success_all: String } => "metrics-claude",
    /// /metrics: Claude latency percentiles.
    MetricsLatency { calls: String, p50: String, p95: String } => "metrics-latency",
    /// /metrics: no Claude call yet.
    MetricsLatencyNone => "metrics-latency-none",
    /// /metrics: turns taken from the offline bank, by reason.
    MetricsFallbacks {
        upstream_today: String,
        upstream_all: String,
        unusable_today: String,
        unusable_all: String,
        configuration_today: String,
        configuration_all: String,
        refusal_today: String,
        refusal_all: String,
    } => "metrics-fallbacks",
    /// /metrics: tokens of one period (`today` or `all`).
    MetricsTokens { period: String, input: String, output: String, cache_write: String, cache_read: String } => "metrics-tokens",
    /// /metrics: estimated cost.
    MetricsCost { today: String, all: String, per_interview: String } => "metrics-cost",
    /// /metrics: transcriptions and failures.
    MetricsTranscriptions {
        done_today: String,
        done_all: String,
        failed_today: String,
        failed_all: String,
        audio_minutes: String,
    } => "metrics-transcriptions",
    /// /metrics: failed transcriptions of one kind.
    MetricsTranscriptionFailure { kind: String, today: String, all: String } => "metrics-transcription-failure",
    /// /metrics: no error ever.
    MetricsErrorsNone => "metrics-errors-none",
    /// /metrics: the heading of the errors by kind.
    MetricsErrors => "metrics-errors",
    /// /metrics: errors of one kind.
    MetricsError { kind: String, today: String, all: String } => "metrics-error",
    /// /metrics: files removed by the retention policy.
    MetricsPurged { today: String, all: String } => "metrics-purged",
    /// /metrics: the last successful poll.
    MetricsPolled { ago: String } => "metrics-polled",
    /// /metrics: no successful poll recorded.
    MetricsPolledNever => "metrics-polled-never",
    /// /metrics: resident memory.
    MetricsMemory { megabytes: String } => "metrics-memory",
    /// /metrics: memory not reported.
    MetricsMemoryUnknown => "metrics-memory-unknown",
    /// /metrics: the heading of the alarms.
    MetricsAlarms => "metrics-alarms",
    /// /metrics alarm: Claude refused requests (key, model, parameters).
    AlarmConfiguration { count: String } => "alarm-configuration",
    /// /metrics alarm: Claude unreachable or overloaded.
    AlarmUpstream { count: String } => "alarm-upstream",
    /// /metrics alarm: unusable turns.
    AlarmUnusable { count: String } => "alarm-unusable",
    /// /metrics alarm: turns Claude declined to answer.
    AlarmRefusal { count: String } => "alarm-refusal",
    /// /metrics alarm: storage errors.
    AlarmStorage { count: String } => "alarm-storage",
    /// /metrics alarm: messages not delivered.
    AlarmDelivery { count: String } => "alarm-delivery",
    /// /metrics alarm: internal errors.
    AlarmInternal { count: String } => "alarm-internal",
    /// /metrics alarm: files quarantined.
    AlarmQuarantine { count: String } => "alarm-quarantine",
    /// /metrics alarm: failed transcriptions.
    AlarmTranscription { failed: String, total: String } => "alarm-transcription",
    /// /metrics alarm: a model without a price.
    AlarmUnpriced { model: String } => "alarm-unpriced",
    /// /metrics alarm: polling stopped.
    AlarmPolling { ago: String } => "alarm-polling",
    /// A number of days, short.
    UnitDays { n: u64 } => "unit-days",
    /// A number of hours, short.
    UnitHours { n: u64 } => "unit-hours",
    /// A number of minutes, short.
    UnitMinutes { n: u64 } => "unit-minutes",
    /// A number of seconds, short.
    UnitSeconds { n: u64 } => "unit-seconds",
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

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use fluent_syntax::ast;

    use super::*;

    type Signatures = BTreeMap<String, BTreeSet<String>>;

    /// Every message id of a language with the variables its value references.
    fn signatures(lang: Lang) -> Signatures {
        let (_, files) = SOURCES.iter().find(|(l, _)| *l == lang).unwrap();
        let mut out = Signatures::new();
        for (file, source) in *files {
            let resource = fluent_syntax::parser::parse(*source)
                .unwrap_or_else(|(_, errs)| panic!("{lang}/{file}: {errs:?}"));
            for entry in resource.body {
                if let ast::Entry::Message(message) = entry {
                    let mut vars = BTreeSet::new();
                    if let Some(pattern) = &message.value {
                        pattern_vars(pattern, &mut vars);
                    }
                    let id = message.id.name.to_owned();
                    assert!(
                        out.insert(id.clone(), vars).is_none(),
                        "{lang}/{file}: {id} defined twice"
                    );
                }
            }
        }
        out
    }

    fn pattern_vars(pattern: &ast::Pattern<&str>, vars: &mut BTreeSet<String>) {
        for element in &pattern.elements {
            if let ast::PatternElement::Placeable { expression } = element {
                expression_vars(expression, vars);
            }
        }
    }

    fn expression_vars(expression: &ast::Expression<&str>, vars: &mut BTreeSet<String>) {
        match expression {
            ast::Expression::Select { selector, variants } => {
                inline_vars(selector, vars);
                for variant in variants {
                    pattern_vars(&variant.value, vars);
                }
            }
            ast::Expression::Inline(inline) => inline_vars(inline, vars),
        }
    }

    fn inline_vars(inline: &ast::InlineExpression<&str>, vars: &mut BTreeSet<String>) {
        match inline {
            ast::InlineExpression::VariableReference { id } => {
                vars.insert(id.name.to_owned());
            }
            ast::InlineExpression::Placeable { expression } => expression_vars(expression, vars),
            _ => {}
        }
    }

    #[test]
    fn both_locales_define_the_same_messages_with_the_same_variables() {
        let en = signatures(Lang::En);
        let ru = signatures(Lang::Ru);
        let only_en: Vec<_> = en.keys().filter(|k| !ru.contains_key(*k)).collect();
        let only_ru: Vec<_> = ru.keys().filter(|k| !en.contains_key(*k)).collect();
        assert!(
            only_en.is_empty() && only_ru.is_empty(),
            "only en: {only_en:?}; only ru: {only_ru:?}"
        );
        for (id, vars) in &en {
            assert_eq!(vars, &ru[id], "variables of {id} differ");
        }
    }

    #[test]
    fn every_typed_message_exists_with_exactly_its_variables() {
        for lang in Lang::ALL {
            let defined = signatures(lang);
            for (id, fields) in Msg::SIGNATURES {
                let vars = defined
                    .get(*id)
                    .unwrap_or_else(|| panic!("{lang}: {id} is missing"));
                let fields: BTreeSet<String> = fields.iter().map(|f| f.to_string()).collect();
                assert_eq!(vars, &fields, "{lang}: variables of {id}");
            }
        }
    }

    #[test]
    fn every_stage_and_personality_has_a_name_in_each_language() {
        let catalog = Catalog::load().unwrap();
        for lang in Lang::ALL {
            let mut names = BTreeSet::new();
            for stage in Stage::ALL {
                names.insert(catalog.text(lang, &Msg::stage(stage)));
            }
            assert_eq!(names.len(), Stage::COUNT, "{lang}: stage names must differ");
            let mut styles = BTreeSet::new();
            for style in Style::ALL {
                styles.insert(catalog.text(lang, &Msg::style(style)));
                let description = Msg::StyleDescription {
                    style: style.id().to_owned(),
                };
                styles.insert(catalog.text(lang, &description));
            }
            assert_eq!(
                styles.len(),
                2 * Style::ALL.len(),
                "{lang}: personality texts must differ"
            );
        }
    }

    #[test]
    fn messages_are_formatted_with_their_variables_and_no_isolation_marks() {
        let catalog = Catalog::load().unwrap();
        let text = catalog.text(
            Lang::Ru,
            &Msg::AnswerTooLong {
                length: 12_001,
                limit: 12_000,
            },
        );
        assert!(text.contains("12001") && text.contains("12000"), "{text}");
        assert!(!text.contains('\u{2068}'));
    }

    #[test]
    fn client_language_codes_map_to_supported_languages() {
        assert_eq!(Lang::from_code("ru-RU"), Some(Lang::Ru));
        assert_eq!(Lang::from_code("en_GB"), Some(Lang::En));
        assert_eq!(Lang::from_code("de"), None);
        assert_eq!(Lang::from_code(""), None);
    }
}
