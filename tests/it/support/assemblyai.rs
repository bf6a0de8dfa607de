//! The fake AssemblyAI, and the product's transcription policies shortened to the fake's pace
//! (they name the product's types, so they live here rather than in the fakes' crate).

use std::time::Duration;

use ai_interviewer::{
    retry::RetryPolicy,
    voice::assemblyai::{PollPolicy, retry_policy},
};

pub use interviewer_fakes::assemblyai::*;

/// Retries within milliseconds (the fake answers at once): the product's policy with short waits.
pub fn quick_retries(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        ..retry_policy(max_retries)
    }
}

/// Polls a transcript every few milliseconds.
pub fn quick_poll() -> PollPolicy {
    PollPolicy {
        first: Duration::from_millis(5),
        max_interval: Duration::from_millis(20),
        deadline: Duration::from_secs(60),
    }
}
