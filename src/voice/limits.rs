//! What Telegram says about a file before it is downloaded, and the checks made on it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::VoiceConfig;
use super::VoiceError;

/// How the audio arrived in the chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudioKind {
    /// A voice note recorded in Telegram (OGG/Opus).
    Voice,
    /// An audio file sent as music (`file_name`, `mime_type`).
    Audio,
    /// A round video note (MP4, no `mime_type`).
    VideoNote,
    /// A document whose type is audio.
    Document,
}

/// What Telegram reports about a file before it is downloaded. Every field is sender-supplied
/// and only a hint: the bytes are checked again after download.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AudioMeta {
    /// How the audio arrived (`None` only in tests of the pure checks).
    pub kind: Option<AudioKind>,
    /// `duration`, in seconds, when Telegram gave one.
    pub declared_duration: Option<Duration>,
    /// `file_size`, in bytes, when Telegram gave one.
    pub declared_size: Option<u64>,
    /// `mime_type`, when Telegram gave one.
    pub mime_type: Option<String>,
    /// `file_name`, when Telegram gave one.
    pub file_name: Option<String>,
}

impl AudioMeta {
    /// Metadata of a voice note.
    pub fn voice(duration_secs: u32, size: Option<u64>) -> Self {
        AudioMeta {
            kind: Some(AudioKind::Voice),
            declared_duration: Some(Duration::from_secs(u64::from(duration_secs))),
            declared_size: size,
            mime_type: Some("audio/ogg".to_owned()),
            file_name: None,
        }
    }

    /// The file name's extension, lower-cased, as a hint for the probe.
    pub fn extension(&self) -> Option<String> {
        let name = self.file_name.as_deref()?;
        let (_, ext) = name.rsplit_once('.')?;
        (!ext.is_empty() && ext.len() <= 5).then(|| ext.to_ascii_lowercase())
    }
}

/// The limits a recording must respect.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VoiceLimits {
    /// The largest file accepted, in bytes.
    pub max_file_size: u64,
    /// The longest recording accepted.
    pub max_duration: Duration,
}

impl VoiceLimits {
    /// The limits from the settings.
    pub fn from_settings(settings: &VoiceConfig) -> Self {
        VoiceLimits {
            max_file_size: settings.max_file_size,
            max_duration: settings.max_duration,
        }
    }
}

/// Whether a document's declared type makes it worth downloading as audio: an `audio/*` MIME
/// type, or a file name with an audio extension when the type is missing or generic.
pub fn is_audio_document(meta: &AudioMeta) -> bool {
    const EXTENSIONS: [&str; 10] = [
        "ogg", "oga", "opus", "mp3", "m4a", "aac", "wav", "flac", "webm", "mka",
    ];
    let mime = meta.mime_type.as_deref().unwrap_or("").to_ascii_lowercase();
    if mime.starts_with("audio/") {
        return true;
    }
    let generic = mime.is_empty() || mime == "application/octet-stream";
    generic
        && meta
            .extension()
            .is_some_and(|ext| EXTENSIONS.contains(&ext.as_str()))
}

/// The checks made on Telegram's metadata before anything is downloaded: a file declared too
/// big or too long is refused at once. Missing values pass; the bytes are checked after
/// download whatever was declared.
pub fn check_metadata(limits: &VoiceLimits, meta: &AudioMeta) -> Result<(), VoiceError> {
    if let Some(size) = meta.declared_size
        && size > limits.max_file_size
    {
        return Err(VoiceError::TooBig {
            size,
            limit: limits.max_file_size,
        });
    }
    if let Some(duration) = meta.declared_duration
        && duration > limits.max_duration
    {
        return Err(VoiceError::TooLong {
            duration: Some(duration),
            limit: limits.max_duration,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: VoiceLimits = VoiceLimits {
        max_file_size: 20 * 1024 * 1024,
        max_duration: Duration::from_secs(600),
    };

    #[test]
    fn a_declared_size_over_the_limit_is_refused_before_download() {
        let meta = AudioMeta::voice(30, Some(20 * 1024 * 1024 + 1));
        assert!(matches!(
            check_metadata(&LIMITS, &meta),
            Err(VoiceError::TooBig { size, .. }) if size == 20 * 1024 * 1024 + 1
        ));
    }

    #[test]
    fn a_declared_duration_over_the_limit_is_refused_before_download() {
        let meta = AudioMeta::voice(601, Some(1000));
        assert!(matches!(
            check_metadata(&LIMITS, &meta),
            Err(VoiceError::TooLong { .. })
        ));
    }

    #[test]
    fn values_at_the_limit_or_missing_pass() {
        assert!(check_metadata(&LIMITS, &AudioMeta::voice(600, Some(20 * 1024 * 1024))).is_ok());
        assert!(check_metadata(&LIMITS, &AudioMeta::default()).is_ok());
    }

    #[test]
    fn documents_are_audio_by_mime_type_or_by_extension_when_the_type_is_generic() {
        let doc = |mime: Option<&str>, name: Option<&str>| AudioMeta {
            kind: Some(AudioKind::Document),
            mime_type: mime.map(str::to_owned),
            file_name: name.map(str::to_owned),
            ..AudioMeta::default()
        };
        assert!(is_audio_document(&doc(Some("audio/mpeg"), Some("talk"))));
        assert!(is_audio_document(&doc(None, Some("Talk.M4A"))));
        assert!(is_audio_document(&doc(
            Some("application/octet-stream"),
            Some("talk.ogg")
        )));
        assert!(!is_audio_document(&doc(
            Some("application/pdf"),
            Some("cv.pdf")
        )));
        assert!(!is_audio_document(&doc(
            Some("application/pdf"),
            Some("talk.mp3")
        )));
        assert!(!is_audio_document(&doc(None, Some("notes.txt"))));
        assert!(!is_audio_document(&doc(None, None)));
    }
}
