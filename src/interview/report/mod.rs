//! The knowledge report handed to the expert at the end.
//!
//! Claude composes it from the stage summaries (never from the whole transcript, so its
//! request stays small however long the interview ran) as structured JSON: the sections, each
//! item citing the knowledge elements it comes from by id. The engine checks every citation
//! and renders the Markdown itself: an item that cites nothing known is dropped, a quote that
//! is not the expert's exact words is dropped, and a section left empty says it had too
//! little material instead of being filled in. Every claim ends with its reference: the
//! stage and time of the answer, with the expert's words where there are some.
//!
//! When Claude cannot write it (down for a day, or no key), the report is the expert's
//! answers in their own words under the same sections, placed by the offline bank's
//! question-to-section map, each with its reference, under a note that says so (`offline`).
//!
//! `request` builds what Claude is asked, `read` checks what it answers, `render` writes
//! the Markdown and the one-screen summary; this module holds the limits they share. The
//! report's shape and state are data of the session ([`crate::model::report`]).

mod offline;
mod read;
mod render;
mod request;
#[cfg(test)]
mod tests;

pub use offline::body;
pub use read::{Cite, read, sources};
pub use render::{render, screen, shown};
pub use request::{check, prompt, revision_prompt, schema};

pub use crate::model::report::{
    Area, Claim, Correction, Failure, Quote, Report, ReportState, Review, Row, Section, Step,
};

/// The output budget of the report's answer: nine sections of up to a dozen items in Russian
/// on the newer tokenizer, with their source ids and the JSON around them.
pub const REPORT_MAX_TOKENS: u32 = 12_000;

/// The most items kept per section, and quotes.
const MAX_ITEMS: usize = 12;
const MAX_QUOTES: usize = 8;

/// The most bytes of stage summaries sent in the report's request (about 30k tokens): past
/// it, fewer elements of each stage are sent, so the request stays bounded however long the
/// interview ran. Typical interviews send a fraction of it.
pub const REPORT_INPUT_BYTES: usize = 100_000;

/// The longest one-screen summary kept, in characters.
const MAX_SUMMARY_CHARS: usize = 1_500;

/// The id a claim cites to rest on the expert's correction.
pub const CORRECTION_ID: &str = "C";
