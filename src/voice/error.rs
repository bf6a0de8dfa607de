//! Why a voice note was not transcribed, one variant per reply the user gets.

use std::time::Duration;

use super::{assemblyai::AssemblyAiError, probe::Container};
use crate::i18n::Msg;

/// Why a voice note was not transcribed. Each variant maps to one localized reply
/// ([`VoiceError::reply`]); the text of the error itself is for the logs only.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VoiceError {
    /// `VOICE_PROCESSING_ENABLED` is off.
    #[error("voice processing is disabled")]
    Disabled,
    /// No `ASSEMBLYAI_API_KEY`.
    #[error("no ASSEMBLYAI_API_KEY: voice notes cannot be transcribed")]
    NoApiKey,
    /// The file is over `VOICE_MAX_FILE_SIZE_MB`.
    #[error("file of {size} bytes is over the limit of {limit}")]
    TooBig {
        /// Its size, declared or real, in bytes.
        size: u64,
        /// The limit, in bytes.
        limit: u64,
    },
    /// The recording is over `VOICE_MAX_DURATION_SECONDS`.
    #[error("recording over the limit of {limit:?} (declared {duration:?})")]
    TooLong {
        /// The duration Telegram declared, if any (the real one is at least the limit).
        duration: Option<Duration>,
        /// The limit.
        limit: Duration,
    },
    /// The file is damaged, not audio, or a codec nothing here reads.
    #[error("unreadable audio: {detail}")]
    Unreadable {
        /// What the probe or ffmpeg said.
        detail: String,
    },
    /// The format needs ffmpeg, which is not installed.
    #[error("{container} audio needs ffmpeg, which is not available")]
    NeedsFfmpeg {
        /// The container that would have been converted.
        container: Container,
    },
    /// AssemblyAI refuses the bot's configuration (key, models, language, base URL).
    #[error("speech recognition configuration: {0}")]
    Configuration(AssemblyAiError),
    /// AssemblyAI is down, rate limiting, or too slow, after the retries.
    #[error("speech recognition unavailable: {0}")]
    UpstreamDown(AssemblyAiError),
    /// AssemblyAI could not transcribe this recording.
    #[error("transcription failed: {reason}")]
    TranscriptionFailed {
        /// The transcript's `error`.
        reason: String,
    },
    /// No speech was heard.
    #[error("the transcript is empty")]
    Empty,
    /// A fault on this side (scratch files, a conversion that ran out of time).
    #[error("voice pipeline fault: {detail}")]
    Internal {
        /// What went wrong.
        detail: String,
    },
}

impl VoiceError {
    /// The localized reply the user gets.
    pub fn reply(&self) -> Msg {
        match self {
            VoiceError::Disabled => Msg::VoiceDisabled,
            VoiceError::NoApiKey => Msg::VoiceNotConfigured,
            VoiceError::TooBig { limit, .. } => Msg::VoiceTooBig {
                limit_mb: limit / (1024 * 1024),
            },
            VoiceError::TooLong { limit, .. } => Msg::VoiceTooLong {
                minutes: limit.as_secs() / 60,
                seconds: limit.as_secs() % 60,
            },
            VoiceError::Unreadable { .. } => Msg::VoiceUnreadable,
            VoiceError::NeedsFfmpeg { .. } => Msg::VoiceFormatUnavailable,
            VoiceError::Configuration(_) => Msg::VoiceServiceMisconfigured,
            VoiceError::UpstreamDown(_) => Msg::VoiceServiceDown,
            VoiceError::TranscriptionFailed { .. } => Msg::VoiceTranscriptionFailed,
            VoiceError::Empty => Msg::VoiceEmpty,
            VoiceError::Internal { .. } => Msg::InternalError,
        }
    }

    /// Whether the operator must act (logged as an error): the settings, the installation or
    /// the machine are at fault rather than the recording or a passing outage.
    pub fn is_operator_fault(&self) -> bool {
        matches!(
            self,
            VoiceError::NoApiKey
                | VoiceError::NeedsFfmpeg { .. }
                | VoiceError::Configuration(_)
                | VoiceError::Internal { .. }
        )
    }
}

impl From<AssemblyAiError> for VoiceError {
    fn from(error: AssemblyAiError) -> Self {
        match error {
            AssemblyAiError::Configuration { .. } => VoiceError::Configuration(error),
            AssemblyAiError::TranscriptFailed { reason } => {
                VoiceError::TranscriptionFailed { reason }
            }
            AssemblyAiError::Empty => VoiceError::Empty,
            AssemblyAiError::RateLimited { .. }
            | AssemblyAiError::Unavailable { .. }
            | AssemblyAiError::Timeout(_)
            | AssemblyAiError::Network(_)
            | AssemblyAiError::Decode(_)
            | AssemblyAiError::Deadline { .. } => VoiceError::UpstreamDown(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn every_error() -> Vec<VoiceError> {
        vec![
            VoiceError::Disabled,
            VoiceError::NoApiKey,
            VoiceError::TooBig {
                size: 30 << 20,
                limit: 20 << 20,
            },
            VoiceError::TooLong {
                duration: None,
                limit: Duration::from_secs(600),
            },
            VoiceError::Unreadable {
                detail: "junk".into(),
            },
            VoiceError::NeedsFfmpeg {
                container: Container::Mpeg,
            },
            VoiceError::Configuration(AssemblyAiError::Configuration {
                status: 400,
                message: "bad model".into(),
            }),
            VoiceError::UpstreamDown(AssemblyAiError::Timeout(Duration::from_secs(1))),
            VoiceError::TranscriptionFailed {
                reason: "no audio".into(),
            },
            VoiceError::Empty,
            VoiceError::Internal {
                detail: "disk".into(),
            },
        ]
    }

    #[test]
    fn every_fault_has_its_own_reply() {
        let errors = every_error();
        let ids: HashSet<&str> = errors.iter().map(|e| e.reply().id()).collect();
        assert_eq!(ids.len(), errors.len());
    }

    #[test]
    fn limits_are_told_in_the_users_units() {
        let too_long = VoiceError::TooLong {
            duration: Some(Duration::from_secs(700)),
            limit: Duration::from_secs(90),
        };
        assert_eq!(
            too_long.reply(),
            Msg::VoiceTooLong {
                minutes: 1,
                seconds: 30
            }
        );
        let too_big = VoiceError::TooBig {
            size: 21 << 20,
            limit: 20 << 20,
        };
        assert_eq!(too_big.reply(), Msg::VoiceTooBig { limit_mb: 20 });
    }

    #[test]
    fn assemblyai_errors_map_to_configuration_outage_failure_or_empty() {
        let config: VoiceError = AssemblyAiError::Configuration {
            status: 401,
            message: "Authentication error".into(),
        }
        .into();
        assert!(matches!(config, VoiceError::Configuration(_)) && config.is_operator_fault());
        let limited: VoiceError = AssemblyAiError::RateLimited { retry_after: None }.into();
        assert!(matches!(limited, VoiceError::UpstreamDown(_)) && !limited.is_operator_fault());
        let failed: VoiceError = AssemblyAiError::TranscriptFailed {
            reason: "File does not appear to contain audio".into(),
        }
        .into();
        assert_eq!(
            failed,
            VoiceError::TranscriptionFailed {
                reason: "File does not appear to contain audio".into()
            }
        );
        assert_eq!(VoiceError::from(AssemblyAiError::Empty), VoiceError::Empty);
    }
}
