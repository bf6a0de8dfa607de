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

/// The kinds of work the model is paid for in an interview.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// The interviewer's turns (usable or not).
    Turns,
    /// The stage summaries.
    Summaries,
    /// The report: the first one and every revision.
    Report,
}

/// An interview's token counts by the kind of work they paid for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageByWork {
    /// The interviewer's turns.
    #[serde(default)]
    pub turns: Usage,
    /// The stage summaries.
    #[serde(default)]
    pub summaries: Usage,
    /// The report and its revisions.
    #[serde(default)]
    pub report: Usage,
}

impl UsageByWork {
    /// The counts of one kind of work.
    pub fn of(&self, work: Work) -> Usage {
        match work {
            Work::Turns => self.turns,
            Work::Summaries => self.summaries,
            Work::Report => self.report,
        }
    }

    fn add(&mut self, work: Work, usage: Usage) {
        *match work {
            Work::Turns => &mut self.turns,
            Work::Summaries => &mut self.summaries,
            Work::Report => &mut self.report,
        } += usage;
    }
}

/// Token counts reported by the API over the whole interview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The same tokens by kind of work. `None` for an interview begun before the split was
    /// kept: its earlier tokens cannot be told apart, so a split of only the later ones
    /// would look complete and be wrong.
    #[serde(default)]
    pub by_work: Option<UsageByWork>,
}

impl Default for UsageTotals {
    /// A new interview's totals: nothing spent, and split by kind from the start.
    fn default() -> Self {
        UsageTotals {
            input_tokens: 0,
            output_tokens: 0,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
            online_turns: 0,
            offline_turns: 0,
            offline_by_reason: FallbackCounts::default(),
            by_work: Some(UsageByWork::default()),
        }
    }
}

impl UsageTotals {
    /// Adds one model turn's token counts.
    pub fn record(&mut self, usage: Usage) {
        self.add_tokens(Work::Turns, usage);
        self.online_turns += 1;
    }

    /// Adds token counts of `work` without counting a turn (a billed turn that could not be
    /// used, a stage summary, a report).
    pub fn add_tokens(&mut self, work: Work, usage: Usage) {
        if let Some(split) = &mut self.by_work {
            split.add(work, usage);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(n: u64) -> Usage {
        Usage {
            input_tokens: n,
            output_tokens: 2 * n,
            cache_creation_input_tokens: 3 * n,
            cache_read_input_tokens: 4 * n,
        }
    }

    #[test]
    fn the_split_by_work_adds_up_to_the_totals() {
        let mut totals = UsageTotals::default();
        totals.record(usage(1));
        totals.add_tokens(Work::Turns, usage(10));
        totals.add_tokens(Work::Summaries, usage(100));
        totals.add_tokens(Work::Report, usage(1000));
        totals.add_tokens(Work::Summaries, usage(200));
        let split = totals.by_work.expect("a new interview is split");
        assert_eq!(split.of(Work::Turns), usage(11));
        assert_eq!(split.of(Work::Summaries), usage(300));
        assert_eq!(split.of(Work::Report), usage(1000));
        let mut sum = split.turns;
        sum += split.summaries;
        sum += split.report;
        assert_eq!(sum, totals.tokens());
        assert_eq!(totals.online_turns, 1);
        // The split survives the session file.
        let json = serde_json::to_string(&totals).expect("serialises");
        let back: UsageTotals = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back, totals);
    }

    #[test]
    fn an_older_file_reads_as_not_split_and_stays_so() {
        let old = r#"{"input_tokens":5,"output_tokens":6,"cache_creation_input_tokens":7,
            "cache_read_input_tokens":8,"online_turns":1,"offline_turns":0}"#;
        let mut totals: UsageTotals = serde_json::from_str(old).expect("an old file reads");
        assert_eq!(totals.by_work, None);
        // Tokens added later still count in the totals, and no partial split appears.
        totals.add_tokens(Work::Report, usage(1));
        assert_eq!(totals.by_work, None);
        assert_eq!(totals.input_tokens, 6);
        assert_eq!(totals.cache_read_input_tokens, 12);
    }
}
