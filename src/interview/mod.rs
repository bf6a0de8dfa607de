//! The interview: the turn contract, the turn engine, the context window, the offline bank,
//! the prompts, and the writing of the stage summaries and the knowledge report. Nothing here
//! knows about Telegram. The data it works on (session, stage, style, summaries, report) is
//! the ground floor's, [`crate::model`], re-exported here under its former paths.

pub mod bank;
pub mod context;
pub mod engine;
pub mod export;
pub mod knowledge;
pub mod offline;
pub mod outcome;
pub mod report;
pub mod status;
pub mod study;
pub mod style;
pub mod synthesis;
pub mod turn;

pub use crate::model::{clock, session, stage};

pub use bank::QuestionBank;
pub use engine::{
    Answer, Early, Engine, EngineConfig, EngineError, REPORT_GIVE_UP, ReportDone, ReportJob,
    SessionOwner, StudyOverview, SummariesDone, SummariesJob, TurnDone, TurnJob,
};
pub use outcome::{Begun, Finished, Outcome, Rejection, Reply, ReportOutcome, ReportReady};
pub use style::{PromptError, Prompts};
pub use turn::{Turn, TurnReply, TurnRequest, response_so_far};

pub use crate::model::{
    Clock, Ending, Entry, ManualClock, Role, SCHEMA_VERSION, Session, Stage, StageRecord, Style,
    SystemClock, Transition, UserId, VoiceClip,
};
