//! The [`Transcriber`]: from downloaded bytes to a transcript, or to the reason why not.
//!
//! 1. refuse at once when voice is off, there is no key, or the bytes are over the size limit;
//! 2. probe the bytes (container, codec, frames): unreadable or too long is refused, whatever
//!    the metadata claimed;
//! 3. wait for one of `VOICE_CONCURRENT_REQUESTS` slots, telling the caller when it has to wait;
//! 4. OGG/Opus goes as it is; anything else is converted to 16 kHz mono FLAC by ffmpeg (and
//!    probed again), or refused when ffmpeg is missing;
//! 5. upload, create the transcript in the session's language (or with detection), hand the
//!    caller a [`Submission`] (to persist, so a restart can resume it), poll until it completes.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::VoiceConfig;
use super::{
    VoiceError,
    assemblyai::{AssemblyAiClient, Completed, LanguageRequest, TranscriptId},
    limits::{self, AudioMeta, VoiceLimits},
    probe::{self, AudioInfo, ProbeError},
    transcode::{FfmpegStatus, TranscodeError, Transcoder, check_ffmpeg},
};
use crate::{i18n::Msg, model::Lang};

/// A downloaded recording with what Telegram said about it.
#[derive(Debug, Clone)]
pub struct VoiceNote {
    /// The file's bytes.
    pub bytes: Bytes,
    /// Telegram's metadata (hints for the probe; the limits are checked on the bytes).
    pub meta: AudioMeta,
}

/// A finished transcript: what becomes the user's answer, and what is kept with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// AssemblyAI's transcript id.
    pub id: TranscriptId,
    /// The text, trimmed, never empty.
    pub text: String,
    /// The confidence, 0 to 1.
    pub confidence: f64,
    /// The speech model that transcribed it, as AssemblyAI reported.
    pub model: Option<String>,
    /// The audio's duration, counted from its frames.
    pub duration: Duration,
    /// The language code of the transcript (`en`, `ru`...).
    pub language: String,
}

/// A transcript AssemblyAI accepted: everything a restart needs to finish it with
/// [`Transcriber::resume`] instead of uploading again. Persist it with the note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    /// AssemblyAI's transcript id.
    pub id: TranscriptId,
    /// The audio's duration, counted from its frames.
    pub duration: Duration,
    /// The session language the transcript was asked in.
    pub lang: Lang,
}

/// How sure the transcript is, for the indicator shown with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfidenceLevel {
    /// At least 0.85, and at the quality threshold or above.
    High,
    /// At the quality threshold or above.
    Fair,
    /// Below the quality threshold: the user confirms it.
    Low,
}

impl ConfidenceLevel {
    /// The level's id in the catalog.
    pub fn id(self) -> &'static str {
        match self {
            ConfidenceLevel::High => "high",
            ConfidenceLevel::Fair => "fair",
            ConfidenceLevel::Low => "low",
        }
    }
}

impl Transcript {
    /// The confidence level against `threshold`.
    pub fn level(&self, threshold: f64) -> ConfidenceLevel {
        if self.confidence < threshold {
            ConfidenceLevel::Low
        } else if self.confidence >= 0.85 {
            ConfidenceLevel::High
        } else {
            ConfidenceLevel::Fair
        }
    }

    /// The confidence in whole percent.
    pub fn percent(&self) -> u8 {
        // Clamped to 0..=100 first, so the cast cannot wrap.
        (self.confidence.clamp(0.0, 1.0) * 100.0).round() as u8
    }

    /// The "🎤 ..." echo with its confidence indicator. The text is plain: escape it for the
    /// parse mode it is sent in.
    pub fn echo(&self, threshold: f64) -> Msg {
        Msg::VoiceTranscript {
            text: self.text.clone(),
            level: self.level(threshold).id().to_owned(),
            percent: self.percent(),
        }
    }
}

/// What the caller hears while a note is processed. Every method has a default that does
/// nothing; they are called on the transcribing task, so they must return at once (send on a
/// channel rather than do I/O).
pub trait VoiceEvents: Send + Sync {
    /// Every slot is busy: the note waits behind `ahead` others ("your note is queued").
    fn queued(&self, ahead: usize) {
        let _ = ahead;
    }

    /// A slot was taken and the work starts (show a chat action).
    fn started(&self) {}

    /// AssemblyAI accepted the job: persist `submission` so that a restart can
    /// [`Transcriber::resume`] it instead of uploading again.
    fn submitted(&self, submission: &Submission) {
        let _ = submission;
    }
}

/// Ignores every event.
impl VoiceEvents for () {}

/// Something the operator should know at start-up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartupWarning {
    /// Voice is enabled but there is no key: voice notes get a "not set up" reply.
    #[error("no ASSEMBLYAI_API_KEY: voice notes will be refused with a note")]
    NoApiKey,
    /// ffmpeg cannot run: only OGG/Opus voice notes work.
    #[error(
        "ffmpeg is not available ({reason}): only OGG/Opus voice notes can be transcribed; \
         other audio formats will be refused"
    )]
    FfmpegMissing {
        /// Why it could not run.
        reason: String,
    },
}

/// The voice pipeline, shared by every chat.
#[derive(Debug)]
pub struct Transcriber {
    /// `VOICE_PROCESSING_ENABLED`.
    enabled: bool,
    /// Size and duration limits.
    limits: VoiceLimits,
    /// `VOICE_QUALITY_THRESHOLD`.
    quality_threshold: f64,
    /// `VOICE_AUTO_LANGUAGE_DETECTION`.
    auto_language_detection: bool,
    /// The AssemblyAI client, when there is a key.
    client: Option<AssemblyAiClient>,
    /// ffmpeg.
    transcoder: Transcoder,
    /// `VOICE_CONCURRENT_REQUESTS` slots.
    slots: Arc<Semaphore>,
    /// Notes waiting for a slot.
    waiting: Arc<AtomicUsize>,
}

impl Transcriber {
    /// Builds the pipeline from the settings, checking once whether ffmpeg runs. The warnings
    /// are for the start-up log.
    pub async fn from_settings(settings: &VoiceConfig) -> (Transcriber, Vec<StartupWarning>) {
        let ffmpeg = if settings.enabled {
            check_ffmpeg(&settings.ffmpeg_path).await
        } else {
            FfmpegStatus::Missing {
                reason: "voice processing is disabled".into(),
            }
        };
        let transcriber = Transcriber::new(settings, &ffmpeg);
        let mut warnings = Vec::new();
        if settings.enabled {
            if settings.assemblyai.api_key.is_none() {
                warnings.push(StartupWarning::NoApiKey);
            }
            if let FfmpegStatus::Missing { reason } = ffmpeg {
                warnings.push(StartupWarning::FfmpegMissing { reason });
            }
        }
        (transcriber, warnings)
    }

    /// Builds the pipeline from the settings and a known ffmpeg status.
    pub fn new(settings: &VoiceConfig, ffmpeg: &FfmpegStatus) -> Transcriber {
        let temp_root = settings.temp_dir.clone().unwrap_or_else(std::env::temp_dir);
        Transcriber {
            enabled: settings.enabled,
            limits: VoiceLimits::from_settings(settings),
            quality_threshold: settings.quality_threshold,
            auto_language_detection: settings.auto_language_detection,
            client: settings
                .assemblyai
                .api_key
                .clone()
                .map(|key| AssemblyAiClient::new(&settings.assemblyai, key)),
            transcoder: Transcoder::new(
                settings.ffmpeg_path.clone(),
                settings.ffmpeg_timeout,
                temp_root,
                ffmpeg,
            ),
            slots: Arc::new(Semaphore::new(settings.concurrent_requests.max(1))),
            waiting: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Replaces the AssemblyAI client (for other retry or polling policies).
    pub fn with_client(mut self, client: AssemblyAiClient) -> Self {
        self.client = Some(client);
        self
    }

    /// The size and duration limits.
    pub fn limits(&self) -> VoiceLimits {
        self.limits
    }

    /// `VOICE_QUALITY_THRESHOLD`: below it the user confirms the transcript.
    pub fn quality_threshold(&self) -> f64 {
        self.quality_threshold
    }

    /// Whether a transcript is doubtful enough to ask the user before using it.
    pub fn needs_confirmation(&self, transcript: &Transcript) -> bool {
        transcript.level(self.quality_threshold) == ConfidenceLevel::Low
    }

    /// Whether ffmpeg conversions can run.
    pub fn can_convert(&self) -> bool {
        self.transcoder.is_available()
    }

    /// Notes waiting for a slot right now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// The checks made before anything is downloaded: voice on, a key, and Telegram's declared
    /// size and duration within the limits. Cheap and synchronous.
    pub fn check_before_download(&self, meta: &AudioMeta) -> Result<(), VoiceError> {
        self.client()?;
        limits::check_metadata(&self.limits, meta)
    }

    /// Transcribes a downloaded note in the session's language.
    pub async fn transcribe(
        &self,
        note: VoiceNote,
        lang: Lang,
        events: &dyn VoiceEvents,
    ) -> Result<Transcript, VoiceError> {
        let result = self.run(note, lang, events).await;
        log_outcome(&result);
        result
    }

    /// Finishes a transcript submitted before a restart: waits for a slot, then polls it.
    pub async fn resume(
        &self,
        submission: &Submission,
        events: &dyn VoiceEvents,
    ) -> Result<Transcript, VoiceError> {
        let result = async {
            let client = self.client()?;
            let _slot = self.slot(events).await;
            events.started();
            let done = client.wait(&submission.id).await?;
            Ok(transcript(done, submission.duration, submission.lang))
        }
        .await;
        log_outcome(&result);
        result
    }

    async fn run(
        &self,
        note: VoiceNote,
        lang: Lang,
        events: &dyn VoiceEvents,
    ) -> Result<Transcript, VoiceError> {
        let client = self.client()?;
        let size = u64::try_from(note.bytes.len()).unwrap_or(u64::MAX);
        if size > self.limits.max_file_size {
            return Err(VoiceError::TooBig {
                size,
                limit: self.limits.max_file_size,
            });
        }
        let info = self
            .probe(
                note.bytes.clone(),
                note.meta.extension(),
                note.meta.mime_type.clone(),
                note.meta.declared_duration,
            )
            .await?;
        tracing::debug!(?info, "voice note probed");
        if !info.is_ogg_opus() && !self.transcoder.is_available() {
            return Err(VoiceError::NeedsFfmpeg {
                container: info.container,
            });
        }
        let _slot = self.slot(events).await;
        events.started();
        let (audio, duration) = if info.is_ogg_opus() {
            (note.bytes, info.duration)
        } else {
            let flac = self
                .transcoder
                .to_speech_flac(note.bytes, info.container, self.limits.max_duration)
                .await
                .map_err(|e| match e {
                    TranscodeError::Missing => VoiceError::NeedsFfmpeg {
                        container: info.container,
                    },
                    TranscodeError::Failed { .. } => VoiceError::Unreadable {
                        detail: e.to_string(),
                    },
                    TranscodeError::Timeout(_) | TranscodeError::Io(_) => VoiceError::Internal {
                        detail: e.to_string(),
                    },
                })?;
            let converted = self
                .probe(
                    flac.clone(),
                    Some("flac".into()),
                    None,
                    note.meta.declared_duration,
                )
                .await?;
            (flac, converted.duration)
        };
        let upload = client.upload(audio).await?;
        let language = if self.auto_language_detection {
            LanguageRequest::Detect { fallback: lang }
        } else {
            LanguageRequest::Known(lang)
        };
        let id = client.submit(&upload, language).await?;
        events.submitted(&Submission {
            id: id.clone(),
            duration,
            lang,
        });
        let done = client.wait(&id).await?;
        Ok(transcript(done, duration, lang))
    }

    fn client(&self) -> Result<&AssemblyAiClient, VoiceError> {
        if !self.enabled {
            return Err(VoiceError::Disabled);
        }
        self.client.as_ref().ok_or(VoiceError::NoApiKey)
    }

    /// Probes on a blocking thread.
    async fn probe(
        &self,
        bytes: Bytes,
        extension: Option<String>,
        mime_type: Option<String>,
        declared: Option<Duration>,
    ) -> Result<AudioInfo, VoiceError> {
        let max = self.limits.max_duration;
        let probed = tokio::task::spawn_blocking(move || {
            probe::probe(&bytes, extension.as_deref(), mime_type.as_deref(), max)
        })
        .await
        .map_err(|e| VoiceError::Internal {
            detail: format!("probe task: {e}"),
        })?;
        probed.map_err(|e| match e {
            ProbeError::TooLong { limit } => VoiceError::TooLong {
                duration: declared,
                limit,
            },
            ProbeError::Unreadable(_) | ProbeError::NoAudio => VoiceError::Unreadable {
                detail: e.to_string(),
            },
        })
    }

    /// Takes a slot, telling `events` first when every slot is busy.
    async fn slot(&self, events: &dyn VoiceEvents) -> OwnedSemaphorePermit {
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return permit;
        }
        let ahead = self.waiting.fetch_add(1, Ordering::SeqCst);
        // Counted out again however the wait ends (even if the caller gives up).
        let _waiting = Waiting(self.waiting.clone());
        events.queued(ahead);
        self.slots
            .clone()
            .acquire_owned()
            .await
            .expect("the slots are never closed")
    }
}

/// Counts a note out of the queue when dropped.
struct Waiting(Arc<AtomicUsize>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn transcript(done: Completed, duration: Duration, lang: Lang) -> Transcript {
    Transcript {
        id: done.id,
        text: done.text,
        confidence: done.confidence,
        model: done.speech_model,
        duration,
        language: done.language_code.unwrap_or_else(|| lang.code().to_owned()),
    }
}

fn log_outcome(result: &Result<Transcript, VoiceError>) {
    match result {
        Ok(t) => tracing::info!(
            id = %t.id,
            duration_ms = u64::try_from(t.duration.as_millis()).unwrap_or(u64::MAX),
            confidence = t.confidence,
            model = t.model.as_deref().unwrap_or("unknown"),
            language = %t.language,
            "voice note transcribed"
        ),
        Err(e) if e.is_operator_fault() => tracing::error!(error = %e, "voice note refused"),
        Err(e) => tracing::warn!(error = %e, "voice note refused"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transcript(confidence: f64) -> Transcript {
        Transcript {
            id: TranscriptId("t".into()),
            text: "hello".into(),
            confidence,
            model: Some("universal-2".into()),
            duration: Duration::from_secs(3),
            language: "en".into(),
        }
    }

    #[test]
    fn confidence_levels_follow_the_threshold() {
        assert_eq!(transcript(0.95).level(0.6), ConfidenceLevel::High);
        assert_eq!(transcript(0.7).level(0.6), ConfidenceLevel::Fair);
        assert_eq!(transcript(0.6).level(0.6), ConfidenceLevel::Fair);
        assert_eq!(transcript(0.59).level(0.6), ConfidenceLevel::Low);
        // A threshold above 0.85 makes "high" need the threshold too.
        assert_eq!(transcript(0.9).level(0.95), ConfidenceLevel::Low);
    }

    #[test]
    fn the_echo_carries_the_text_level_and_percent() {
        assert_eq!(
            transcript(0.934).echo(0.6),
            Msg::VoiceTranscript {
                text: "hello".into(),
                level: "high".into(),
                percent: 93
            }
        );
        assert_eq!(transcript(7.0).percent(), 100);
        assert_eq!(transcript(-1.0).percent(), 0);
    }
}
