//! Normalising audio with ffmpeg: 16 kHz mono FLAC for everything AssemblyAI should not get as
//! it is (video notes, MP3, M4A, WAV, WebM...).
//!
//! ffmpeg is spawned directly (no shell), reads only the local input file (`-protocol_whitelist
//! file`) with the demuxer the probe identified (never one it guesses, so a playlist disguised
//! as audio cannot make it fetch anything), and stops at the duration limit. Input and output
//! live in a private scratch directory (0700, files 0600) that is removed when the conversion
//! ends, whether it succeeded, failed, timed out or panicked. ffmpeg is killed on timeout, and
//! if the conversion is abandoned.

use std::{
    os::unix::fs::{OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use bytes::Bytes;
use tokio::{io::AsyncReadExt, process::Command};

use super::probe::Container;

/// The sample rate of normalised audio.
pub const SAMPLE_RATE: u32 = 16_000;

/// The most of ffmpeg's error output kept for the logs.
const STDERR_KEPT: usize = 2048;

/// The limit on `ffmpeg -version` at start-up.
const VERSION_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether ffmpeg can be run, as found once at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FfmpegStatus {
    /// ffmpeg answered `-version`.
    Available {
        /// The first line it printed.
        version: String,
    },
    /// ffmpeg could not be run: formats that need it are refused.
    Missing {
        /// Why, for the start-up warning.
        reason: String,
    },
}

impl FfmpegStatus {
    /// Whether conversions can run.
    pub fn is_available(&self) -> bool {
        matches!(self, FfmpegStatus::Available { .. })
    }
}

/// Runs `<program> -version` once to find out whether ffmpeg is there.
pub async fn check_ffmpeg(program: &Path) -> FfmpegStatus {
    let run = Command::new(program)
        .arg("-version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(VERSION_TIMEOUT, run).await {
        Err(_) => FfmpegStatus::Missing {
            reason: format!("`{} -version` did not answer", program.display()),
        },
        Ok(Err(e)) => FfmpegStatus::Missing {
            reason: format!("cannot run {}: {e}", program.display()),
        },
        Ok(Ok(output)) if !output.status.success() => FfmpegStatus::Missing {
            reason: format!("`{} -version` failed: {}", program.display(), output.status),
        },
        Ok(Ok(output)) => FfmpegStatus::Available {
            version: String::from_utf8_lossy(&output.stdout)
                .lines()
                .next()
                .unwrap_or("ffmpeg")
                .trim()
                .to_owned(),
        },
    }
}

/// Why a conversion failed.
#[derive(Debug, thiserror::Error)]
pub enum TranscodeError {
    /// ffmpeg is not installed (found at start-up, or vanished since).
    #[error("ffmpeg is not available")]
    Missing,
    /// ffmpeg ran past its time limit and was killed.
    #[error("ffmpeg ran past {0:?} and was killed")]
    Timeout(Duration),
    /// ffmpeg could not read the input.
    #[error("ffmpeg failed ({status}): {stderr}")]
    Failed {
        /// Its exit status.
        status: String,
        /// The end of its error output.
        stderr: String,
    },
    /// The scratch directory could not be used.
    #[error("scratch files: {0}")]
    Io(#[from] std::io::Error),
}

/// The ffmpeg runner.
#[derive(Debug, Clone)]
pub struct Transcoder {
    /// The program to run.
    program: PathBuf,
    /// The limit on one conversion.
    timeout: Duration,
    /// Where scratch directories are made.
    temp_root: PathBuf,
    /// Whether ffmpeg answered at start-up.
    available: bool,
}

impl Transcoder {
    /// A transcoder running `program`, known from [`check_ffmpeg`] to be there or not.
    pub fn new(
        program: PathBuf,
        timeout: Duration,
        temp_root: PathBuf,
        status: &FfmpegStatus,
    ) -> Self {
        Transcoder {
            program,
            timeout,
            temp_root,
            available: status.is_available(),
        }
    }

    /// Whether conversions can run.
    pub fn is_available(&self) -> bool {
        self.available
    }

    /// Where scratch directories are made.
    pub fn temp_root(&self) -> &Path {
        &self.temp_root
    }

    /// Converts `input` (a `container` the probe identified) to 16 kHz mono 16-bit FLAC,
    /// keeping at most `max_duration` plus a second (enough to tell that it was too long).
    pub async fn to_speech_flac(
        &self,
        input: Bytes,
        container: Container,
        max_duration: Duration,
    ) -> Result<Bytes, TranscodeError> {
        if !self.available {
            return Err(TranscodeError::Missing);
        }
        let scratch = tempfile::Builder::new()
            .prefix("voice-")
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir_in(&self.temp_root)?;
        let input_path = scratch.path().join("input");
        let output_path = scratch.path().join("output.flac");
        write_private(&input_path, input).await?;
        // Created empty and private, so ffmpeg writes into a file nobody else can read.
        write_private(&output_path, Bytes::new()).await?;
        let keep = max_duration.saturating_add(Duration::from_secs(1));
        let mut child = Command::new(&self.program)
            .args(["-nostdin", "-hide_banner", "-nostats", "-loglevel", "error"])
            .args(["-protocol_whitelist", "file"])
            .args(["-f", container.ffmpeg_demuxer(), "-i"])
            .arg(&input_path)
            .args(["-map", "0:a:0", "-vn", "-sn", "-dn", "-map_metadata", "-1"])
            .args(["-t", &format!("{:.3}", keep.as_secs_f64())])
            .args([
                "-ac",
                "1",
                "-ar",
                &SAMPLE_RATE.to_string(),
                "-sample_fmt",
                "s16",
            ])
            .args(["-c:a", "flac", "-f", "flac", "-y"])
            .arg(&output_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
                    TranscodeError::Missing
                }
                _ => TranscodeError::Io(e),
            })?;
        let stderr = child.stderr.take().map(|mut pipe| {
            tokio::spawn(async move {
                let mut all = Vec::new();
                let _ = pipe.read_to_end(&mut all).await;
                let start = all.len().saturating_sub(STDERR_KEPT);
                String::from_utf8_lossy(&all[start..]).trim().to_owned()
            })
        });
        let status = match tokio::time::timeout(self.timeout, child.wait()).await {
            Ok(status) => status?,
            Err(_) => {
                // Kill and reap before the scratch directory goes.
                let _ = child.kill().await;
                return Err(TranscodeError::Timeout(self.timeout));
            }
        };
        let stderr = match stderr {
            Some(task) => task.await.unwrap_or_default(),
            None => String::new(),
        };
        if !status.success() {
            return Err(TranscodeError::Failed {
                status: status.to_string(),
                stderr,
            });
        }
        let output = tokio::fs::read(&output_path).await?;
        Ok(Bytes::from(output))
    }
}

/// Writes `bytes` to a new file readable by its owner only.
async fn write_private(path: &Path, bytes: Bytes) -> std::io::Result<()> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        file.write_all(&bytes)
    })
    .await
    .map_err(std::io::Error::other)?
}
