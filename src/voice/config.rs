//! What the voice pipeline and its AssemblyAI client are configured with (read from
//! `VOICE_*`, `FFMPEG_*` and `ASSEMBLYAI_*`).

use std::{path::PathBuf, time::Duration};

use reqwest::Url;
use secrecy::SecretString;

/// Everything the AssemblyAI client needs.
#[derive(Debug, Clone)]
pub struct AssemblyAiConfig {
    /// `ASSEMBLYAI_API_KEY`: required for voice notes; without it they are refused with a note.
    pub api_key: Option<SecretString>,
    /// `ASSEMBLYAI_BASE_URL`: where the API lives (the EU base is `https://api.eu.assemblyai.com`).
    pub base_url: Url,
    /// `ASSEMBLYAI_SPEECH_MODELS`: speech models in priority order; AssemblyAI uses the first
    /// one that supports the requested language.
    pub speech_models: Vec<String>,
    /// `ASSEMBLYAI_TIMEOUT_SECONDS`: the limit on one HTTP request (an upload included).
    pub timeout: Duration,
    /// `ASSEMBLYAI_TRANSCRIPT_TIMEOUT_SECONDS`: how long to wait for a transcript to complete.
    pub transcript_timeout: Duration,
    /// `ASSEMBLYAI_MAX_RETRIES`: retries after the first attempt on rate limits, 5xx and timeouts.
    pub max_retries: u32,
}

/// Everything the voice pipeline needs.
#[derive(Debug, Clone)]
pub struct VoiceConfig {
    /// `VOICE_PROCESSING_ENABLED`: whether voice notes and audio files are transcribed.
    pub enabled: bool,
    /// `VOICE_MAX_DURATION_SECONDS`: the longest recording accepted.
    pub max_duration: Duration,
    /// `VOICE_MAX_FILE_SIZE_MB`: the largest file accepted, in bytes (Telegram lets bots
    /// download at most 20 MB).
    pub max_file_size: u64,
    /// `VOICE_QUALITY_THRESHOLD`: below this confidence (0 to 1) the user confirms the transcript.
    pub quality_threshold: f64,
    /// `VOICE_CONCURRENT_REQUESTS`: transcriptions running at once; the rest wait their turn.
    pub concurrent_requests: usize,
    /// `VOICE_AUTO_LANGUAGE_DETECTION`: let AssemblyAI detect the language instead of sending
    /// the session's.
    pub auto_language_detection: bool,
    /// `FFMPEG_PATH`: the ffmpeg program (looked up on `PATH` unless it is a path).
    pub ffmpeg_path: PathBuf,
    /// `FFMPEG_TIMEOUT_SECONDS`: the limit on one conversion; ffmpeg is killed after it.
    pub ffmpeg_timeout: Duration,
    /// `VOICE_TEMP_DIR`: where private scratch directories for conversions are made;
    /// unset, the system's temporary directory.
    pub temp_dir: Option<PathBuf>,
    /// The AssemblyAI client's settings.
    pub assemblyai: AssemblyAiConfig,
}
