//! What the model's work cost in tokens: one response's counts, and the totals of an interview.

use serde::{Deserialize, Serialize};

use super::{Fallback, FallbackCounts};

/// Token counts of one response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens after the last cache breakpoint.
    #[serde(default)]
    pub input_tokens: u64,
    /// Output tokens.
    #[serde(default)]
    pub output_tokens: u64,
    /// Input tokens written to the cache.
    #[serde(default, deserialize_with = "null_as_zero")]
    pub cache_creation_input_tokens: u64,
    /// Input tokens read from the cache.
    #[serde(default, deserialize_with = "null_as_zero")]
    pub cache_read_input_tokens: u64,
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cache_creation_input_tokens += other.cache_creation_input_tokens;
        self.cache_read_input_tokens += other.cache_read_input_tokens;
    }
}

fn null_as_zero<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(Option::<u64>::deserialize(d)?.unwrap_or(0))
}

/// Token counts reported by the API over the whole interview.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageTotals {
    /// Input tokens neither read from nor written to the cache.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Input tokens written to the prompt cache.
    pub cache_creation_input_tokens: u64,
    /// Input tokens read from the prompt cache.
    pub cache_read_input_tokens: u64,
    /// Interviewer turns written by the model.
    pub online_turns: u32,
    /// Interviewer turns taken from the offline bank.
    pub offline_turns: u32,
    /// The offline turns by why the model did not write them.
    #[serde(default)]
    pub offline_by_reason: FallbackCounts,
}

impl UsageTotals {
    /// Adds one model turn's token counts.
    pub fn record(&mut self, usage: Usage) {
        self.add_tokens(usage);
        self.online_turns += 1;
    }

    /// Adds token counts without counting a turn (a billed reply that could not be used).
    pub fn add_tokens(&mut self, usage: Usage) {
        self.input_tokens += usage.input_tokens;
        self.output_tokens += usage.output_tokens;
        self.cache_creation_input_tokens += usage.cache_creation_input_tokens;
        self.cache_read_input_tokens += usage.cache_read_input_tokens;
    }

    /// Counts one turn from the offline bank and why.
    pub fn record_offline(&mut self, reason: Fallback) {
        self.offline_turns += 1;
        self.offline_by_reason.add(reason);
    }

    /// The token counts, in the API's shape (for pricing).
    pub fn tokens(&self) -> Usage {
        Usage {
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            cache_creation_input_tokens: self.cache_creation_input_tokens,
            cache_read_input_tokens: self.cache_read_input_tokens,
        }
    }
}
