//! Voice notes: from the bytes of a Telegram voice note, audio file, video note or audio
//! document to a transcript, or to the one reply that says why not.
//!
//! | module | what it holds |
//! |---|---|
//! | [`limits`] | Telegram's metadata and the checks made on it before download |
//! | [`probe`] | symphonia: container, codec, sample rate, channels, duration counted from frames |
//! | [`transcode`] | ffmpeg: 16 kHz mono FLAC for what AssemblyAI should not get as it is |
//! | [`assemblyai`] | the AssemblyAI client: upload, create, poll, retries |
//! | [`pipeline`] | the [`Transcriber`]: limits, probe, queue, conversion, transcription |
//! | [`error`] | [`VoiceError`], one variant per reply the user gets |
//! | `config` | [`VoiceConfig`] and [`AssemblyAiConfig`]: what the pipeline is configured with |
//!
//! A front end calls [`Transcriber::check_before_download`] on Telegram's metadata, downloads
//! the file, then [`Transcriber::transcribe`] with a [`VoiceEvents`] that hears when the note
//! waits for a slot, when the work starts, and the [`Submission`] to persist so that
//! [`Transcriber::resume`] can finish the transcript after a restart.

pub mod assemblyai;
mod config;
pub mod error;
pub mod limits;
pub mod pipeline;
pub mod probe;
pub mod transcode;

pub use assemblyai::{AssemblyAiClient, AssemblyAiError, TranscriptId};
pub use config::{
    AssemblyAiConfig, DEFAULT_SPEECH_MODELS_EN, DEFAULT_SPEECH_MODELS_RU, SpeechModels,
    UNIVERSAL_MODEL, VoiceConfig,
};
pub use error::VoiceError;
pub use limits::{AudioKind, AudioMeta, VoiceLimits, check_metadata, is_audio_document};
pub use pipeline::{
    ConfidenceLevel, StartupWarning, Submission, Transcriber, Transcript, VoiceEvents, VoiceNote,
};
pub use probe::{AudioInfo, Codec, Container};
pub use transcode::{FfmpegStatus, check_ffmpeg};
