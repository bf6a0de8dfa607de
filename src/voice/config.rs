//! What the voice pipeline and its AssemblyAI client are configured with (read from
//! `VOICE_*`, `FFMPEG_*` and `ASSEMBLYAI_*`).

use std::{path::PathBuf, time::Duration};

use reqwest::Url;
use secrecy::SecretString;

use crate::model::Lang;

/// Everything the AssemblyAI client needs.
#[derive(Debug, Clone)]
pub struct AssemblyAiConfig {
    /// `ASSEMBLYAI_API_KEY`: required for voice notes; without it they are refused with a note.
    pub api_key: Option<SecretString>,
    /// `ASSEMBLYAI_BASE_URL`: where the API lives (the EU base is `https://api.eu.assemblyai.com`).
    pub base_url: Url,
    /// `ASSEMBLYAI_SPEECH_MODELS_EN` and `_RU`: each language's speech models in priority
    /// order; AssemblyAI uses the first one of the list that supports the language.
    pub speech_models: SpeechModels,
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

/// The speech model that takes every language the bot interviews in, and so ends every list:
/// since AssemblyAI stopped falling back to another model on its own (November 2026), a
/// language none of the listed models supports is a 400, and `universal-2` (99 languages,
/// English and Russian among them) is what keeps a list from failing that way.
pub const UNIVERSAL_MODEL: &str = "universal-2";

/// Each interview language's speech models, in priority order, each list ending with
/// [`UNIVERSAL_MODEL`] (the settings refuse any other).
///
/// One list per language rather than one for all: a model is chosen for what it does with
/// the language it will hear, and AssemblyAI's newest model is not documented for every
/// language. The defaults, from the providers' documentation of November 2026:
///
/// - English: `assemblyai-stt-3-7` (the new default model, English among its 32 languages),
///   then `universal-2`: the migration guide's recommended list.
/// - Russian: `universal-2` alone. `universal-3-5-pro` has no Russian, and whether
///   `assemblyai-stt-3-7` has it was not confirmed; listing it first would send Russian to it
///   the day it does, before anyone has heard how well it transcribes Russian. An operator who
///   has can put it first with `ASSEMBLYAI_SPEECH_MODELS_RU`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeechModels {
    /// `ASSEMBLYAI_SPEECH_MODELS_EN`.
    pub en: Vec<String>,
    /// `ASSEMBLYAI_SPEECH_MODELS_RU`.
    pub ru: Vec<String>,
}

/// The English list when `ASSEMBLYAI_SPEECH_MODELS_EN` is not set.
pub const DEFAULT_SPEECH_MODELS_EN: [&str; 2] = ["assemblyai-stt-3-7", UNIVERSAL_MODEL];
/// The Russian list when `ASSEMBLYAI_SPEECH_MODELS_RU` is not set.
pub const DEFAULT_SPEECH_MODELS_RU: [&str; 1] = [UNIVERSAL_MODEL];

impl Default for SpeechModels {
    fn default() -> Self {
        SpeechModels {
            en: DEFAULT_SPEECH_MODELS_EN.map(str::to_owned).to_vec(),
            ru: DEFAULT_SPEECH_MODELS_RU.map(str::to_owned).to_vec(),
        }
    }
}

impl SpeechModels {
    /// The list sent with a transcript in `lang`.
    pub fn for_lang(&self, lang: Lang) -> &[String] {
        match lang {
            Lang::En => &self.en,
            Lang::Ru => &self.ru,
        }
    }

    /// The setting that holds `lang`'s list: what a log line tells the operator to change.
    pub fn setting(lang: Lang) -> &'static str {
        match lang {
            Lang::En => "ASSEMBLYAI_SPEECH_MODELS_EN",
            Lang::Ru => "ASSEMBLYAI_SPEECH_MODELS_RU",
        }
    }

    /// The list sent when AssemblyAI detects the language: only the models every language's
    /// list names, in the order of `likely`'s list (the session's language, the likeliest to
    /// be heard). Whatever language is detected then goes to a model its own list allows, and
    /// the list is never empty, since every list ends with [`UNIVERSAL_MODEL`].
    pub fn for_detection(&self, likely: Lang) -> Vec<String> {
        self.for_lang(likely)
            .iter()
            .filter(|model| {
                Lang::ALL
                    .iter()
                    .all(|lang| self.for_lang(*lang).contains(model))
            })
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_language_gets_its_list_and_detection_only_what_every_list_allows() {
        let models = SpeechModels::default();
        assert_eq!(
            models.for_lang(Lang::En),
            ["assemblyai-stt-3-7", "universal-2"]
        );
        assert_eq!(models.for_lang(Lang::Ru), ["universal-2"]);
        assert_eq!(models.for_detection(Lang::En), ["universal-2"]);
        let both = SpeechModels {
            en: vec!["a".into(), "b".into(), "universal-2".into()],
            ru: vec!["b".into(), "a".into(), "universal-2".into()],
        };
        assert_eq!(both.for_detection(Lang::Ru), ["b", "a", "universal-2"]);
        assert_eq!(both.for_detection(Lang::En), ["a", "b", "universal-2"]);
        assert_eq!(
            SpeechModels::setting(Lang::Ru),
            "ASSEMBLYAI_SPEECH_MODELS_RU"
        );
    }
}
