//! Why an interviewer turn came from the offline question bank instead of Claude.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a turn fell back to the offline question bank. Recorded on the transcript entry and on
/// the engine's reply, counted per session, and meant for the operations metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fallback {
    /// No model is configured (`ANTHROPIC_API_KEY` unset): every turn is offline by design.
    NoModel,
    /// The API could not be reached or stayed unavailable after the retries: a network
    /// failure, a timeout, 408/409, 429, 5xx or 529, or a response that could not be read.
    UpstreamDown,
    /// The model answered, but the turn was still unusable after one repair request:
    /// truncated at `max_tokens` or not the JSON asked for.
    UnusableTurn,
    /// The API refused the request itself (400, 401, 403, 404, 413...): the settings do not
    /// suit the model or the key. Logged at error level; the operator has to act.
    Configuration,
    /// The model declined to answer (`stop_reason: refusal`): its safety classifier stopped
    /// the turn. Not asked again, since the same conversation draws the same refusal.
    Refusal,
}

impl Fallback {
    /// Every reason, in a stable order (for metrics labels).
    pub const ALL: [Fallback; 5] = [
        Fallback::NoModel,
        Fallback::UpstreamDown,
        Fallback::UnusableTurn,
        Fallback::Configuration,
        Fallback::Refusal,
    ];

    /// The reason as a label: `no_model`, `upstream_down`, `unusable_turn`, `configuration`,
    /// `refusal`.
    pub fn as_str(self) -> &'static str {
        match self {
            Fallback::NoModel => "no_model",
            Fallback::UpstreamDown => "upstream_down",
            Fallback::UnusableTurn => "unusable_turn",
            Fallback::Configuration => "configuration",
            Fallback::Refusal => "refusal",
        }
    }
}

impl fmt::Display for Fallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Offline turns counted by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FallbackCounts {
    /// Turns offline because no model is configured.
    #[serde(default)]
    pub no_model: u32,
    /// Turns offline because the API was down.
    #[serde(default)]
    pub upstream_down: u32,
    /// Turns offline because the model's turn stayed unusable.
    #[serde(default)]
    pub unusable_turn: u32,
    /// Turns offline because the API refused the request.
    #[serde(default)]
    pub configuration: u32,
    /// Turns offline because the model declined to answer.
    #[serde(default)]
    pub refusal: u32,
}

impl FallbackCounts {
    /// Counts one offline turn.
    pub fn add(&mut self, reason: Fallback) {
        *self.slot(reason) += 1;
    }

    /// The turns counted for `reason`.
    pub fn get(&self, reason: Fallback) -> u32 {
        match reason {
            Fallback::NoModel => self.no_model,
            Fallback::UpstreamDown => self.upstream_down,
            Fallback::UnusableTurn => self.unusable_turn,
            Fallback::Configuration => self.configuration,
            Fallback::Refusal => self.refusal,
        }
    }

    /// All offline turns.
    pub fn total(&self) -> u32 {
        Fallback::ALL.into_iter().map(|r| self.get(r)).sum()
    }

    fn slot(&mut self, reason: Fallback) -> &mut u32 {
        match reason {
            Fallback::NoModel => &mut self.no_model,
            Fallback::UpstreamDown => &mut self.upstream_down,
            Fallback::UnusableTurn => &mut self.unusable_turn,
            Fallback::Configuration => &mut self.configuration,
            Fallback::Refusal => &mut self.refusal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_serialise_as_their_labels_and_are_counted_apart() {
        for reason in Fallback::ALL {
            assert_eq!(serde_json::to_value(reason).unwrap(), reason.as_str());
        }
        let mut counts = FallbackCounts::default();
        counts.add(Fallback::UpstreamDown);
        counts.add(Fallback::UpstreamDown);
        counts.add(Fallback::Configuration);
        assert_eq!(counts.get(Fallback::UpstreamDown), 2);
        assert_eq!(counts.total(), 3);
        counts.add(Fallback::Refusal);
        assert_eq!(counts.get(Fallback::Refusal), 1);
        assert_eq!(
            counts.get(Fallback::UnusableTurn),
            0,
            "a refusal is its own cause"
        );
        let back: FallbackCounts = serde_json::from_str("{\"configuration\": 4}").unwrap();
        assert_eq!(back.configuration, 4);
        assert_eq!(
            back.refusal, 0,
            "files written before refusals were counted load"
        );
    }
}
