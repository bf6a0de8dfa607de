//! One fuzz target per reader of outside data: each function takes the fuzzer's bytes, feeds
//! them to the product's own reader the way the product does, and checks what must hold for
//! any input. Besides "no panic", that is:
//!
//! - the readers of Claude's replies (turn, stage summary, report, synthesis) either refuse or
//!   give a value the product can use: a turn's response is trimmed, non-empty and within its
//!   limit; a report renders;
//! - a loader of a stored file (session, chat record, profile, metrics) either loads it and
//!   leaves the file where it was, or moves it whole to `quarantine/`: never both, never
//!   neither, never a changed byte;
//! - the inbox journal and the sent log open on any content, and what they rewrite at opening
//!   opens again to the same state;
//! - the reply splitter and the escaper keep Telegram's limits and every visible character;
//! - the desk and the webhook answer any request without a server error, and nothing behind the
//!   sign-in or the secret answers a request that lacks them.
//!
//! Bounded time and memory are the fuzzer's to check (`fuzz/run` passes `-timeout` and
//! `-rss_limit_mb`); a test runs every target over its seed corpus and its regressions
//! (`tests/corpus.rs`), so a crash once found stays fixed.

mod desk;
mod files;
mod readers;
mod text;
mod web;

pub use desk::desk_request;
pub use files::{chat_record, inbox_journal, metrics_file, profile, sent_log, session_file};
pub use readers::{audio_probe, claude_wire, report, stage_summary, synthesis, transcript, turn};
pub use text::{callback, html_split, settings, user_text};
pub use web::webhook;

/// A target: the fuzzer's bytes in, a panic on any property broken.
pub type Target = fn(&[u8]);

/// Every target by name, as `fuzz/run`, the binaries and the corpus test know them.
pub const TARGETS: &[(&str, Target)] = &[
    ("turn", turn),
    ("stage_summary", stage_summary),
    ("report", report),
    ("synthesis", synthesis),
    ("claude_wire", claude_wire),
    ("transcript", transcript),
    ("audio_probe", audio_probe),
    ("session_file", session_file),
    ("chat_record", chat_record),
    ("profile", profile),
    ("metrics_file", metrics_file),
    ("inbox_journal", inbox_journal),
    ("sent_log", sent_log),
    ("callback", callback),
    ("html_split", html_split),
    ("settings", settings),
    ("user_text", user_text),
    ("webhook", webhook),
    ("desk_request", desk_request),
];

/// A fresh directory for an input's files, under `TMPDIR`: `fuzz/run` points it into memory
/// (`/dev/shm`) where there is one, since every store write is fsync'd and an fsync on a disk
/// would leave the fuzzer a few inputs a second, and removes it when the run ends.
fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// The one runtime the async readers run on, built once per process. Several threads (the
/// corpus test's) may block on it at once, so it has a worker of its own.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}
