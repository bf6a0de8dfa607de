//! Reading what a file really holds, with symphonia: container, codec, sample rate, channels,
//! and the duration counted from the packets' frames rather than taken from any header.
//!
//! Every packet of the audio track is read (demuxed, not decoded), so a file whose header or
//! Telegram metadata claims a few seconds but holds an hour is caught, and the count stops as
//! soon as it passes the limit. Codecs symphonia can decode also have their first packets
//! decoded, so a file that only looks like audio is refused here; Opus cannot be decoded by
//! symphonia, but its packets are parsed (the table of contents of each gives its length).

use std::{fmt, io::Cursor, time::Duration};

use symphonia::core::{
    codecs::{
        CodecParameters,
        audio::{AudioCodecId, AudioDecoderOptions, well_known as codec},
    },
    formats::{FormatOptions, TrackType, probe::Hint, well_known as format},
    io::{MediaSourceStream, MediaSourceStreamOptions},
    meta::MetadataOptions,
};

/// How many packets of a decodable codec are decoded to prove the stream is real audio.
const PACKETS_DECODED: usize = 8;

/// How far past the limit a recording may run and still count as within it: Telegram rounds
/// durations to whole seconds, and audio comes in frames (up to 120 ms of Opus, 26 ms of MP3)
/// plus encoder delay and padding that not every container lets a reader trim.
pub const GRACE: Duration = Duration::from_millis(500);

/// A container symphonia can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Container {
    /// Ogg (Telegram voice notes; Opus, Vorbis or FLAC inside).
    Ogg,
    /// A bare MPEG audio stream (MP3).
    Mpeg,
    /// ISO MP4 (M4A, video notes).
    Mp4,
    /// RIFF WAVE.
    Wav,
    /// Native FLAC.
    Flac,
    /// Matroska or WebM.
    Matroska,
    /// A bare AAC stream in ADTS frames.
    Adts,
}

impl Container {
    /// The ffmpeg demuxer that reads this container.
    pub fn ffmpeg_demuxer(self) -> &'static str {
        match self {
            Container::Ogg => "ogg",
            Container::Mpeg => "mp3",
            Container::Mp4 => "mov",
            Container::Wav => "wav",
            Container::Flac => "flac",
            Container::Matroska => "matroska",
            Container::Adts => "aac",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Container::Ogg => "ogg",
            Container::Mpeg => "mp3",
            Container::Mp4 => "mp4",
            Container::Wav => "wav",
            Container::Flac => "flac",
            Container::Matroska => "matroska",
            Container::Adts => "adts",
        }
    }
}

impl fmt::Display for Container {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An audio codec, as far as the pipeline cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// Opus (voice notes, WebM).
    Opus,
    /// Vorbis.
    Vorbis,
    /// MPEG layer 1, 2 or 3.
    Mpeg,
    /// AAC.
    Aac,
    /// FLAC.
    Flac,
    /// Uncompressed or ADPCM samples.
    Pcm,
    /// Any other codec the container named.
    Other,
}

impl Codec {
    fn from_id(id: AudioCodecId) -> Codec {
        match id {
            codec::CODEC_ID_OPUS => Codec::Opus,
            codec::CODEC_ID_VORBIS => Codec::Vorbis,
            codec::CODEC_ID_MP1 | codec::CODEC_ID_MP2 | codec::CODEC_ID_MP3 => Codec::Mpeg,
            codec::CODEC_ID_AAC => Codec::Aac,
            codec::CODEC_ID_FLAC => Codec::Flac,
            // PCM and ADPCM variants are numbered below the first compressed codec.
            id if id > symphonia::core::codecs::audio::CODEC_ID_NULL_AUDIO
                && id < codec::CODEC_ID_VORBIS =>
            {
                Codec::Pcm
            }
            _ => Codec::Other,
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Codec::Opus => "opus",
            Codec::Vorbis => "vorbis",
            Codec::Mpeg => "mpeg-audio",
            Codec::Aac => "aac",
            Codec::Flac => "flac",
            Codec::Pcm => "pcm",
            Codec::Other => "other",
        })
    }
}

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioInfo {
    /// The container.
    pub container: Container,
    /// The audio track's codec.
    pub codec: Codec,
    /// The sample rate the codec decodes at (Opus always reports 48 kHz).
    pub sample_rate: Option<u32>,
    /// The number of channels, when the container says.
    pub channels: Option<u16>,
    /// The audio frames counted over every packet of the track.
    pub frames: u64,
    /// The duration those frames make.
    pub duration: Duration,
}

impl AudioInfo {
    /// Whether this is an OGG/Opus stream, which AssemblyAI takes as it is.
    pub fn is_ogg_opus(&self) -> bool {
        self.container == Container::Ogg && self.codec == Codec::Opus
    }
}

/// Why a file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// The bytes are not a container symphonia knows, or the stream is broken.
    #[error("unreadable audio: {0}")]
    Unreadable(String),
    /// The container holds no audio track.
    #[error("no audio track")]
    NoAudio,
    /// The audio runs past the limit (counting stopped there).
    #[error("audio runs past {limit:?}")]
    TooLong {
        /// The limit that was passed.
        limit: Duration,
    },
}

/// Probes `bytes` (optionally hinted by a file extension or MIME type) and counts the audio
/// frames, refusing what is unreadable or runs past `max_duration` (by more than [`GRACE`]).
/// CPU-bound: run it on a blocking thread.
pub fn probe(
    bytes: &[u8],
    extension: Option<&str>,
    mime_type: Option<&str>,
    max_duration: Duration,
) -> Result<AudioInfo, ProbeError> {
    let unreadable = |e: symphonia::core::errors::Error| ProbeError::Unreadable(e.to_string());
    let source = Cursor::new(bytes);
    let stream = MediaSourceStream::new(Box::new(source), MediaSourceStreamOptions::default());
    let mut hint = Hint::new();
    if let Some(ext) = extension {
        hint.with_extension(ext);
    }
    if let Some(mime) = mime_type {
        hint.mime_type(mime);
    }
    let mut reader = symphonia::default::get_probe()
        .probe(
            &hint,
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(unreadable)?;
    let container = match reader.format_info().format {
        format::FORMAT_ID_OGG => Container::Ogg,
        format::FORMAT_ID_MP1 | format::FORMAT_ID_MP2 | format::FORMAT_ID_MP3 => Container::Mpeg,
        format::FORMAT_ID_ISOMP4 => Container::Mp4,
        format::FORMAT_ID_WAVE => Container::Wav,
        format::FORMAT_ID_FLAC => Container::Flac,
        format::FORMAT_ID_MKV => Container::Matroska,
        format::FORMAT_ID_ADTS => Container::Adts,
        _ => {
            return Err(ProbeError::Unreadable(format!(
                "unexpected container {}",
                reader.format_info().short_name
            )));
        }
    };
    let track = reader
        .default_track(TrackType::Audio)
        .ok_or(ProbeError::NoAudio)?
        .clone();
    let Some(CodecParameters::Audio(params)) = track.codec_params.clone() else {
        return Err(ProbeError::NoAudio);
    };
    let codec = Codec::from_id(params.codec);
    let sample_rate = params.sample_rate.filter(|rate| *rate > 0);
    // Frames are counted in the track's time base, or in samples when it has none.
    let (numer, denom) = match (track.time_base, sample_rate) {
        (Some(tb), _) => (u64::from(tb.numer.get()), u64::from(tb.denom.get())),
        (None, Some(rate)) => (1, u64::from(rate)),
        (None, None) => {
            return Err(ProbeError::Unreadable(
                "no time base and no sample rate".into(),
            ));
        }
    };
    let to_duration = |ticks: u64| -> Duration {
        let nanos = u128::from(ticks)
            .saturating_mul(u128::from(numer))
            .saturating_mul(1_000_000_000)
            / u128::from(denom);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    };
    // The decoder proves the first packets are audio, for codecs symphonia can decode.
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .ok();
    if decoder.is_none() && codec != Codec::Opus {
        return Err(ProbeError::Unreadable(format!(
            "no decoder for the {codec} codec"
        )));
    }
    // The packets' durations make the length, less the codec's delay and padding (the Opus
    // pre-skip, an MP3 encoder's delay) when the demuxer did not trim them from the packets.
    let delay = u64::from(track.delay.unwrap_or(0));
    let mut ticks: u64 = 0;
    let (mut trimmed_start, mut trimmed_end) = (0u64, 0u64);
    let mut first_pts: Option<i64> = None;
    let mut last_end: i64 = 0;
    let mut decoded = 0;
    while let Some(packet) = reader.next_packet().map_err(unreadable)? {
        if packet.track_id != track.id {
            continue;
        }
        let dur = packet.dur.get();
        ticks = ticks.saturating_add(dur);
        trimmed_start = trimmed_start.saturating_add(packet.trim_start.get());
        trimmed_end = trimmed_end.saturating_add(packet.trim_end.get());
        let pts = packet.pts.get();
        first_pts.get_or_insert(pts);
        last_end = last_end.max(pts.saturating_add(i64::try_from(dur).unwrap_or(i64::MAX)));
        if let Some(decoder) = decoder.as_mut()
            && decoded < PACKETS_DECODED
        {
            decoder.decode(&packet).map_err(unreadable)?;
            decoded += 1;
        }
        let so_far = counted(ticks, first_pts, last_end);
        let so_far = if trimmed_start == 0 {
            so_far.saturating_sub(delay)
        } else {
            so_far
        };
        if to_duration(so_far) > max_duration.saturating_add(GRACE) {
            return Err(ProbeError::TooLong {
                limit: max_duration,
            });
        }
    }
    let mut ticks = counted(ticks, first_pts, last_end);
    if trimmed_start == 0 {
        ticks = ticks.saturating_sub(delay);
    }
    if trimmed_end == 0 {
        ticks = ticks.saturating_sub(u64::from(track.padding.unwrap_or(0)));
    }
    if ticks == 0 {
        return Err(ProbeError::Unreadable("no audio frames".into()));
    }
    let frames = if let Some(rate) = sample_rate {
        let frames = u128::from(ticks).saturating_mul(u128::from(numer)) * u128::from(rate)
            / u128::from(denom);
        u64::try_from(frames).unwrap_or(u64::MAX)
    } else {
        ticks
    };
    Ok(AudioInfo {
        container,
        codec,
        sample_rate,
        channels: params
            .channels
            .as_ref()
            .and_then(|c| u16::try_from(c.count()).ok()),
        frames,
        duration: to_duration(ticks),
    })
}

/// The frames counted: the packets' durations, or the span of their timestamps when the
/// container gives no durations.
fn counted(ticks: u64, first_pts: Option<i64>, last_end: i64) -> u64 {
    if ticks > 0 {
        return ticks;
    }
    let span = last_end.saturating_sub(first_pts.unwrap_or(0));
    u64::try_from(span).unwrap_or(0)
}
