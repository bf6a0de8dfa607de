//! What the engine hands back to a front end: the next question, the end of the interview, or
//! why nothing happened.

use std::{path::PathBuf, time::Duration};

use super::Stage;
use crate::{i18n::Lang, llm::Fallback};

/// An interviewer message for the expert.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The text to show.
    pub text: String,
    /// The stage the interview is in after this reply.
    pub stage: Stage,
    /// The reply moved the interview to a new stage.
    pub stage_changed: bool,
    /// The reply came from the offline bank.
    pub offline: bool,
    /// For a reply from the offline bank: why the model did not write it.
    pub fallback: Option<Fallback>,
}

/// Why an answer was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Nothing but whitespace.
    Empty,
    /// Over the length limit.
    TooLong {
        /// The answer's length in characters.
        length: usize,
        /// The limit.
        limit: usize,
    },
}

/// A finished interview. Its report is written next ([`Engine::report_job`](super::Engine::report_job)).
#[derive(Debug, Clone)]
pub struct Finished {
    /// The interview's id.
    pub session: u32,
    /// The interviewer's closing message, if the model wrote one.
    pub closing: Option<Reply>,
    /// The interview's language.
    pub language: Lang,
}

/// A version of the knowledge report, ready to hand to the expert.
#[derive(Debug, Clone)]
pub struct ReportReady {
    /// The interview's id.
    pub session: u32,
    /// 1 for the first report, 2 for the one revised after the expert's correction.
    pub version: u32,
    /// The report, as Markdown.
    pub markdown: String,
    /// What a front end that prints the report in-line shows of this version: the whole
    /// report the first time; for the offline report with the correction placed in it, only
    /// the passages the correction stands next to, so the report is not printed twice.
    pub shown: String,
    /// The one-screen message that goes with it.
    pub screen: String,
    /// Where it is saved.
    pub path: PathBuf,
    /// It was made without Claude: the expert's answers arranged by section, under a note.
    pub offline: bool,
    /// The expert is asked to confirm or correct it (the first version only).
    pub review: bool,
    /// The interview's language.
    pub language: Lang,
}

/// What became of a request for the report (or its revision).
#[derive(Debug, Clone)]
pub enum ReportOutcome {
    /// A version of the report is written.
    Ready(Box<ReportReady>),
    /// Claude could not write it now; it is due again in `retry_in` (the session keeps it
    /// pending, so a restart picks it up). After a day without Claude the report is made
    /// without it.
    Pending {
        /// When to try again.
        retry_in: Duration,
        /// It is the revision after a correction that waits.
        revision: bool,
    },
    /// The correction was not taken; nothing changed.
    Rejected(Rejection),
    /// No ended interview waits for a report or a revision.
    Nothing,
}

/// What became of an answer.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The next question.
    Reply(Reply),
    /// The interview is over.
    Finished(Box<Finished>),
    /// The answer was not taken; nothing changed.
    Rejected(Rejection),
    /// The session was idle past the timeout; nothing was recorded. The user chooses to
    /// [`Engine::resume`](crate::interview::Engine::resume) or to start over with a new interview ([`Engine::open`](crate::interview::Engine::open)).
    Idle {
        /// The interview's id.
        session: u32,
        /// The stage the interview stopped at.
        stage: Stage,
        /// How long it has been idle.
        idle_for: Duration,
        /// The interview's language.
        language: Lang,
    },
    /// There is no interview in progress.
    NoInterview,
    /// The session file could not be read and was set aside.
    Quarantined,
    /// Newer input arrived while the model was thinking; the answer is saved and will be
    /// answered together with the newer input.
    Superseded,
    /// The answer is saved and waits for its turn ([`Engine::next_turn`](super::Engine::next_turn))
    /// (the user is over the rate limit).
    Held,
    /// This input was already taken (redelivered after a crash); nothing changed.
    Duplicate,
}

/// A newly begun interview.
#[derive(Debug, Clone)]
pub struct Begun {
    /// What its opening turn came to: the first question ([`Outcome::Reply`]).
    pub outcome: Outcome,
    /// An unreadable earlier session file was set aside.
    pub quarantined: bool,
}
