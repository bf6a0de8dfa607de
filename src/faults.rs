//! Crash points for the crash tests: in a debug build, the process aborts (no destructor
//! runs, nothing is flushed: as close to `kill -9` as a process can do to itself) at the
//! point named by `AI_INTERVIEWER_CRASH_AT`. Release builds compile every point to nothing.

/// The variable naming the point to crash at.
pub const CRASH_AT: &str = "AI_INTERVIEWER_CRASH_AT";

/// Aborts the process here if `CRASH_AT` names `point` (debug builds only).
pub fn crash_point(point: &str) {
    if cfg!(debug_assertions) && std::env::var(CRASH_AT).is_ok_and(|at| at == point) {
        eprintln!("crash point {point}");
        std::process::abort();
    }
}
