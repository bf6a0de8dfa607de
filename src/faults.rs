//! Crash points for the crash tests: with the `crash-points` feature, the process aborts (no
//! destructor runs, nothing is flushed: as close to `kill -9` as a process can do to itself) at
//! the point named by `AI_INTERVIEWER_CRASH_AT`. Without the feature every point compiles to
//! nothing, so the binary users build carries no way to abort on an environment variable.
//!
//! The feature is a cargo feature rather than `debug_assertions` so that the crash tests run in
//! both profiles: `cargo test` and `cargo test --release` turn it on (see the dev-dependency in
//! `Cargo.toml`), `cargo build --release` does not.

/// The variable naming the point to crash at.
pub const CRASH_AT: &str = "AI_INTERVIEWER_CRASH_AT";

/// Aborts the process here if `CRASH_AT` names `point`.
#[cfg(feature = "crash-points")]
pub fn crash_point(point: &str) {
    if std::env::var(CRASH_AT).is_ok_and(|at| at == point) {
        eprintln!("crash point {point}");
        std::process::abort();
    }
}

/// Nothing: this build has no crash points.
#[cfg(not(feature = "crash-points"))]
#[inline(always)]
pub fn crash_point(_point: &str) {}
