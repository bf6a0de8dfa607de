//! The typed labels of the counters: what kind of answer, why a turn fell back to the offline
//! bank, why a transcription failed, what kind of error. Each has a stable label used in
//! `metrics.json`, in Prometheus labels and in the chat text's message selectors.

use serde::{Deserialize, Serialize};

/// How an expert answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerKind {
    /// A text message.
    Text,
    /// A voice note or audio file, transcribed.
    Voice,
}

/// How a call to Claude ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// A usable reply arrived (after retries, if any).
    Success,
    /// No usable reply: the caller falls back.
    Failure,
}

/// Why an interviewer turn came from the offline bank instead of Claude.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FallbackReason {
    /// Claude could not be reached, timed out, or stayed overloaded or rate-limited through
    /// the retries (network errors, 408, 409, 429, 5xx, 529).
    UpstreamDown,
    /// Claude answered, but the turn was still unusable after the repair request (truncated at
    /// `max_tokens`, or not the turn schema).
    Unusable,
    /// Claude refused the request itself: a key, model id or parameter that does not suit the
    /// model (400, 401, 403, 404). Every turn will fail until the settings change.
    Configuration,
    /// Claude declined to answer (`stop_reason: refusal`, its safety classifier): the turn is
    /// not asked again. Frequent refusals point at the model (Haiku 5.5's classifier is the
    /// strictest) or at what the interviews are about.
    Refusal,
}

impl FallbackReason {
    /// Every reason, in display order.
    pub const ALL: [FallbackReason; 4] = [
        FallbackReason::UpstreamDown,
        FallbackReason::Unusable,
        FallbackReason::Configuration,
        FallbackReason::Refusal,
    ];
}

/// The engine's reason for an offline turn, as the operator counts it. Running without a key
/// is a choice, not a fault: those turns are not counted as fallbacks.
impl TryFrom<crate::model::Fallback> for FallbackReason {
    type Error = ();

    fn try_from(reason: crate::model::Fallback) -> Result<Self, ()> {
        use crate::model::Fallback;
        match reason {
            Fallback::UpstreamDown => Ok(FallbackReason::UpstreamDown),
            Fallback::UnusableTurn => Ok(FallbackReason::Unusable),
            Fallback::Configuration => Ok(FallbackReason::Configuration),
            Fallback::Refusal => Ok(FallbackReason::Refusal),
            Fallback::NoModel => Err(()),
        }
    }
}

/// Why a voice note could not be transcribed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TranscriptionFailure {
    /// The file could not be fetched from Telegram.
    Download,
    /// The audio was refused before upload: too long, too large, or not audio.
    Rejected,
    /// The transcription service failed or could not be reached.
    Upstream,
    /// The transcription did not finish in time.
    Timeout,
    /// The transcription finished but held no speech.
    Empty,
}

/// How a voice pipeline failure is counted.
impl From<&crate::voice::VoiceError> for TranscriptionFailure {
    fn from(error: &crate::voice::VoiceError) -> Self {
        use crate::voice::{VoiceError, assemblyai::AssemblyAiError};
        match error {
            VoiceError::Disabled
            | VoiceError::NoApiKey
            | VoiceError::TooBig { .. }
            | VoiceError::TooLong { .. }
            | VoiceError::Unreadable { .. }
            | VoiceError::NeedsFfmpeg { .. } => TranscriptionFailure::Rejected,
            VoiceError::UpstreamDown(AssemblyAiError::Timeout(_)) => TranscriptionFailure::Timeout,
            VoiceError::Configuration(_)
            | VoiceError::UpstreamDown(_)
            | VoiceError::TranscriptionFailed { .. }
            | VoiceError::Internal { .. } => TranscriptionFailure::Upstream,
            VoiceError::Empty => TranscriptionFailure::Empty,
        }
    }
}

impl TranscriptionFailure {
    /// Every kind, in display order.
    pub const ALL: [TranscriptionFailure; 5] = [
        TranscriptionFailure::Download,
        TranscriptionFailure::Rejected,
        TranscriptionFailure::Upstream,
        TranscriptionFailure::Timeout,
        TranscriptionFailure::Empty,
    ];
}

/// A kind of error worth an operator's attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A `getUpdates` call failed.
    Polling,
    /// A message or document could not be delivered to Telegram after retries.
    Delivery,
    /// A session, dialogue or profile file could not be read or written.
    Storage,
    /// An unreadable file was set aside in `quarantine/`.
    Quarantine,
    /// Any other handler failure.
    Internal,
}

impl ErrorKind {
    /// Every kind, in display order.
    pub const ALL: [ErrorKind; 5] = [
        ErrorKind::Polling,
        ErrorKind::Delivery,
        ErrorKind::Storage,
        ErrorKind::Quarantine,
        ErrorKind::Internal,
    ];
}

/// The snake_case label of each kind, shared by the Prometheus labels and the fluent selectors.
pub trait Label {
    /// The label.
    fn label(&self) -> &'static str;
}

macro_rules! labels {
    ($($ty:ty { $($variant:ident => $label:literal),* $(,)? })*) => {
        $(impl Label for $ty {
            fn label(&self) -> &'static str {
                match self {
                    $(<$ty>::$variant => $label),*
                }
            }
        })*
    };
}

labels! {
    AnswerKind { Text => "text", Voice => "voice" }
    CallOutcome { Success => "success", Failure => "failure" }
    FallbackReason {
        UpstreamDown => "upstream_down",
        Unusable => "unusable",
        Configuration => "configuration",
        Refusal => "refusal",
    }
    TranscriptionFailure {
        Download => "download",
        Rejected => "rejected",
        Upstream => "upstream",
        Timeout => "timeout",
        Empty => "empty",
    }
    ErrorKind {
        Polling => "polling",
        Delivery => "delivery",
        Storage => "storage",
        Quarantine => "quarantine",
        Internal => "internal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The label is what serde writes, so `metrics.json` and Prometheus agree.
    fn agrees<T: Label + Serialize>(value: T) {
        assert_eq!(
            serde_json::to_value(&value).unwrap(),
            serde_json::Value::from(value.label())
        );
    }

    #[test]
    fn labels_are_the_serialized_names() {
        FallbackReason::ALL.into_iter().for_each(agrees);
        TranscriptionFailure::ALL.into_iter().for_each(agrees);
        ErrorKind::ALL.into_iter().for_each(agrees);
        [AnswerKind::Text, AnswerKind::Voice]
            .into_iter()
            .for_each(agrees);
        [CallOutcome::Success, CallOutcome::Failure]
            .into_iter()
            .for_each(agrees);
    }
}
