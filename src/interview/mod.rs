//! The interview: the stage plan, the personalities, the session model, the turn engine, the
//! context window, the offline question bank, the stage summaries and the knowledge report.
//! Nothing here knows about Telegram.

pub mod bank;
pub mod clock;
pub mod context;
pub mod engine;
pub mod export;
pub mod knowledge;
pub mod outcome;
pub mod report;
pub mod session;
pub mod stage;
pub mod status;
pub mod style;

pub use bank::QuestionBank;
pub use clock::{Clock, ManualClock, SystemClock};
pub use engine::{
    Answer, Early, Engine, EngineConfig, EngineError, REPORT_GIVE_UP, ReportDone, ReportJob,
    SessionOwner, SummariesDone, SummariesJob, TurnDone, TurnJob,
};
pub use outcome::{Begun, Finished, Outcome, Rejection, Reply, ReportOutcome, ReportReady};
pub use session::{Ending, Entry, Role, SCHEMA_VERSION, Session, StageRecord, UserId, VoiceClip};
pub use stage::{Stage, Transition};
pub use style::{PromptError, Prompts, Style};
