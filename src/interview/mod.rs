//! The interview: the stage plan, the personalities, the session model, the turn engine, the
//! context window and the offline question bank. Nothing here knows about Telegram.

pub mod bank;
pub mod clock;
pub mod context;
pub mod engine;
pub mod export;
pub mod outcome;
pub mod report;
pub mod session;
pub mod stage;
pub mod status;
pub mod style;

pub use bank::QuestionBank;
pub use clock::{Clock, ManualClock, SystemClock};
pub use engine::{Engine, EngineConfig, EngineError};
pub use outcome::{Begun, Finished, Outcome, Rejection, Reply};
pub use session::{Entry, Role, SCHEMA_VERSION, Session, StageRecord, UserId, VoiceClip};
pub use stage::{Stage, Transition};
pub use style::{PromptError, Prompts, Style};
