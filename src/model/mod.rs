//! The ground floor: the data an interview is made of, as saved to disk and passed between
//! the parts. Nothing here does input or output or knows who drives it; every other module may
//! use it, and it uses none of them.
//!
//! | module | what it holds |
//! |---|---|
//! | [`session`] | the session: transcript, stage records, context, where its end stands |
//! | [`stage`] | the nine stages in plan order, their goals and budgets, the rule for moving on |
//! | [`style`] | the interviewer personalities |
//! | [`lang`] | the languages an interview can be held in |
//! | [`ids`] | whose interview it is |
//! | [`clock`] | the current time, behind a trait tests move by hand |
//! | [`usage`] | tokens per response and per interview |
//! | [`fallback`] | why a turn came from the offline bank, and the counts per reason |
//! | [`summary`] | what a finished stage yielded |
//! | [`report`] | the knowledge report and where it stands |
//! | [`study`] | a study: many experts on one subject, its invite code, its added questions |

pub mod clock;
pub mod fallback;
pub mod ids;
pub mod lang;
pub mod report;
pub mod session;
pub mod stage;
pub mod study;
pub mod style;
pub mod summary;
pub mod usage;

pub use clock::{Clock, ManualClock, SystemClock};
pub use fallback::{Fallback, FallbackCounts};
pub use ids::UserId;
pub use lang::Lang;
pub use report::{Correction, Report, ReportState, Review};
pub use session::{
    ACTIVE_GAP_CAP, Consent, ContextState, Ending, Entry, Expert, LastReading, Role,
    SCHEMA_VERSION, Session, Skip, StageRecord, VoiceClip,
};
pub use stage::{Stage, Transition};
pub use study::{InviteCode, NewStudy, Study, StudyError, StudyId, StudyPlan};
pub use style::Style;
pub use summary::StageSummary;
pub use usage::{Usage, UsageByWork, UsageTotals, Work};
